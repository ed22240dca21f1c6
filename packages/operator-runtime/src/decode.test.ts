import { z } from "zod";
import { describe, expect, it } from "vitest";
import { decodeWith } from "./decode.ts";

const raw = (data: Record<string, unknown>) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "a", namespace: "ns", resourceVersion: "7" },
  data,
});

const schema = z.object({
  kind: z.literal("ConfigMap"),
  metadata: z.object({ name: z.string(), namespace: z.string(), resourceVersion: z.string() }),
  data: z.object({ port: z.coerce.number().int().min(1).max(65_535), host: z.string().min(1) }),
});

describe("decodeWith", () => {
  it("returns the parsed object of a zod schema, typed and transformed", () => {
    const decoded = decodeWith(schema, raw({ port: "25", host: "mail" }));
    const { apiVersion, ...rest } = raw({ port: 25, host: "mail" });
    expect(apiVersion).toBe("v1");
    expect(decoded).toEqual({ ok: true, object: rest }); // zod drops what the schema does not name
  });

  it("lists each zod problem with its path but not the value", () => {
    const decoded = decodeWith(schema, raw({ port: "99999", host: "" }));
    expect(decoded.ok).toBe(false);
    const message = decoded.ok ? "" : decoded.error.message;
    expect(message).toMatch(/^data\.port: .*; data\.host: /);
    expect(message).not.toContain("99999");
  });

  it("accepts a function returning the object or an Error, and contains one that throws", () => {
    const fn = (r: { metadata?: { name?: string; namespace?: string } }) =>
      r.metadata?.name === "a" ? { metadata: r.metadata, ok: 1 } : new Error("not a");
    expect(decodeWith(fn, raw({}))).toMatchObject({ ok: true, object: { ok: 1 } });
    expect(decodeWith(fn, { metadata: { name: "b" } })).toMatchObject({ ok: false, error: { message: "not a" } });
    const throwing = (): never => {
      throw new TypeError("decoder bug");
    };
    expect(decodeWith(throwing, raw({}))).toMatchObject({ ok: false, error: { message: "decoder bug" } });
  });

  it("refuses a decoded object that lost the uid or resourceVersion the cache compares", () => {
    const strict = z.object({ metadata: z.object({ name: z.string(), namespace: z.string() }) });
    expect(decodeWith(strict, raw({}))).toMatchObject({
      ok: false,
      error: { message: "the decoder changed or dropped metadata.resourceVersion" },
    });
  });

  it("refuses a decoded object whose key differs from the raw one", () => {
    const renaming = () => ({ metadata: { name: "other", namespace: "ns" } });
    const dropping = () => ({ metadata: {} });
    expect(decodeWith(renaming, raw({}))).toMatchObject({ ok: false, error: { message: /metadata\.name/ } });
    expect(decodeWith(dropping, raw({}))).toMatchObject({ ok: false });
  });
});
