import type { Secret } from "@emailauth/operator-runtime";
import { describe, expect, it } from "vitest";
import { decodeRecord, encodeRecord, EXECUTION_RECORD, MalformedRecordError } from "./record-secret.ts";
import type { ExecutionId } from "./ids.ts";
import type { ExecutionData } from "./types.ts";

const id = "0123456789abcdef0123456789abcdef" as ExecutionId;
const execution: ExecutionData = {
  id,
  namespace: "ns",
  flow: "login",
  position: 0,
  binding: "login-email",
  stage: "relay",
  mode: "Setup",
  user: { id: "user-42", email: "alice@example.com" },
  client: "system:serviceaccount:apps:web",
  tokenHash: "f".repeat(64),
  state: "email_required",
  addressFixed: false,
  sends: 0,
  createdAt: "2026-01-01T00:00:00.000Z",
  expiresAt: "2026-01-01T00:30:00Z",
};
const served = (s: Secret): Secret => ({ ...s, metadata: { ...s.metadata, uid: "u-1", resourceVersion: "7" } });

describe("encodeRecord", () => {
  it("sits in the given namespace, labelled by component, stage and expiry bucket only, with the expiry, owned by nothing", () => {
    const s = encodeRecord(EXECUTION_RECORD, "ops", execution, "stage-uid");
    expect(s.metadata?.name).toBe(`eao-x-${id}`);
    expect(s.metadata?.namespace).toBe("ops");
    expect(s.type).toBe("emailauth.dev/execution");
    expect(s.metadata?.labels).toEqual({
      "app.kubernetes.io/managed-by": "email-authenticator-operator",
      "emailauth.dev/component": "execution",
      "emailauth.dev/stage-namespace": "ns",
      "emailauth.dev/stage": "relay",
      "emailauth.dev/stage-uid": "stage-uid",
      "emailauth.dev/expires-bucket": "202601010030",
    });
    expect(s.metadata?.annotations).toEqual({ "emailauth.dev/expires-at": "2026-01-01T00:30:00.000Z" });
    // An owner reference cannot name a stage in another namespace.
    expect(s.metadata?.ownerReferences).toBeUndefined();
    expect(s.metadata?.resourceVersion).toBeUndefined();
    expect(JSON.stringify(s.metadata)).not.toMatch(/user-42|alice/);
    expect(encodeRecord(EXECUTION_RECORD, "ops", execution, "stage-uid", "41").metadata).toMatchObject({
      name: `eao-x-${id}`,
      resourceVersion: "41",
    });
  });

  it("refuses an invalid record, an unreadable expiry or a missing stage uid", () => {
    const pending = {
      seq: 1,
      mac: "x".repeat(43) + "=",
      issuedAt: execution.createdAt,
      expiresAt: execution.expiresAt,
    };
    expect(() =>
      encodeRecord(EXECUTION_RECORD, "ns", { ...execution, challenge: { ...pending, attempts: -1 } }, "u"),
    ).toThrow();
    expect(() => encodeRecord(EXECUTION_RECORD, "ns", { ...execution, expiresAt: "later" }, "u")).toThrow(RangeError);
    expect(() => encodeRecord(EXECUTION_RECORD, "ns", execution, "")).toThrow(RangeError);
  });
});

describe("decodeRecord", () => {
  it("round-trips with the Secret's identity and the stage uid", () => {
    const stored = decodeRecord(
      EXECUTION_RECORD,
      served(encodeRecord(EXECUTION_RECORD, "ops", execution, "stage-uid")),
      "ns",
      id,
    );
    expect(stored).toEqual({
      data: execution,
      namespace: "ns",
      name: `eao-x-${id}`,
      uid: "u-1",
      resourceVersion: "7",
      stageUid: "stage-uid",
    });
  });

  it("names the Secret and the fields, never the values, when a record is malformed", () => {
    const good = served(encodeRecord(EXECUTION_RECORD, "ops", execution, "stage-uid"));
    const withLabels = (labels: Record<string, string>): Secret => ({
      ...good,
      metadata: { ...good.metadata, labels: { ...good.metadata?.labels, ...labels } },
    });
    const withRecord = (record: unknown): Secret => ({
      ...good,
      data: { record: Buffer.from(typeof record === "string" ? record : JSON.stringify(record)).toString("base64") },
    });
    const cases: [Secret, RegExp][] = [
      [{ ...good, type: "Opaque" }, /type is "Opaque"/],
      [{ ...good, data: {} }, /no data.record/],
      [withRecord("{not json"), /not JSON/],
      [withRecord({ ...execution, tokenHash: "secret-ish-value" }), /tokenHash/],
      [withRecord({ ...execution, id: "f".repeat(32) }), /another execution/],
      [withRecord({ ...execution, namespace: "elsewhere" }), /another namespace/],
      [withLabels({ "emailauth.dev/stage-namespace": "elsewhere" }), /stage labels do not match/],
      [withLabels({ "emailauth.dev/stage": "other" }), /stage labels do not match/],
      [withLabels({ "emailauth.dev/stage-uid": "" }), /no emailauth.dev\/stage-uid label/],
    ];
    for (const [secret, why] of cases) {
      let err: unknown;
      try {
        decodeRecord(EXECUTION_RECORD, secret, "ns", id);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(MalformedRecordError);
      expect((err as Error).message).toMatch(why);
      expect((err as Error).message).toContain(`ops/eao-x-${id}`);
      expect((err as Error).message).not.toMatch(/secret-ish-value|alice|user-42/);
    }
  });
});
