import { describe, expect, it } from "vitest";
import { decodeEmailDevice, decodeStage } from "./objects.ts";

const meta = { namespace: "app", name: "x", uid: "u-1", resourceVersion: "7" };

describe("kind decoders", () => {
  it("apply the schema's defaults and keep metadata", () => {
    const o = decodeStage({ apiVersion: "emailauth.dev/v1alpha1", kind: "EmailAuthenticatorStage", metadata: meta });
    if (o instanceof Error) throw o;
    expect(o.metadata).toEqual(meta);
    expect(o.spec).toMatchObject({ tokenExpiry: 30, deviceDeletionPolicy: "Retain", connection: { port: 25 } });
  });

  it("refuse a spec with paths and messages, never the values", () => {
    const e = decodeEmailDevice({
      metadata: meta,
      spec: { stageRef: { name: "s" }, user: { id: "u" }, email: "secret-address@", confirmed: "yes" },
    } as never);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(/^spec\.email: .*; spec\.confirmed: /);
    expect((e as Error).message).not.toContain("secret-address");
  });

  it("drop a status that does not match (the controller rewrites it)", () => {
    const spec = { stageRef: { name: "s" }, user: { id: "u" }, email: "a@example.com" };
    const odd = decodeEmailDevice({ metadata: meta, spec, status: { future: true } } as never);
    expect(odd).not.toBeInstanceOf(Error);
    expect((odd as { status?: unknown }).status).toBeUndefined();
    const ok = decodeEmailDevice({ metadata: meta, spec, status: { lastUsedAt: "2026-01-01T00:00:00Z" } } as never);
    expect((ok as { status?: unknown }).status).toEqual({ lastUsedAt: "2026-01-01T00:00:00Z" });
  });
});
