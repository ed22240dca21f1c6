import { describe, expect, it } from "vitest";
import { isAlreadyExists, isConflict, isForbidden, isGone, isInvalid, isNotFound, normalizeError } from "./errors.ts";

const TOKEN = "sekret-bearer-token-value";

function status(code: number, reason: string, message: string, details?: object) {
  return JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
    details,
  });
}

/** An error of KubeClient's shape (code, body, headers); kube-client.test.ts checks the real ones. */
function apiError(code: number, body: unknown): Error {
  return Object.assign(new Error(`HTTP ${code}`), { code, body, headers: {} });
}

describe("normalizeError with other shapes", () => {
  it("reads a Status object from a watch ERROR event; 410 Expired counts as gone", () => {
    const e = normalizeError({
      kind: "Status",
      apiVersion: "v1",
      code: 410,
      reason: "Expired",
      message: "too old resource version",
    });
    expect(e).toMatchObject({ kind: "api", status: 410, reason: "Expired", retryable: true });
    expect(isGone(e)).toBe(true);
  });

  it("reads the 0.x {response: {statusCode}, body} shape", () => {
    const err = {
      response: { statusCode: 403 },
      body: { kind: "Status", reason: "Forbidden", message: "denied", code: 403 },
    };
    expect(normalizeError(err)).toMatchObject({
      kind: "api",
      status: 403,
      reason: "Forbidden",
      message: "denied",
      retryable: false,
    });
    expect(isForbidden(err)).toBe(true);
  });

  it("tells Conflict (retry) from AlreadyExists (do not) although both are 409", () => {
    const conflict = apiError(409, status(409, "Conflict", "the object has been modified"));
    const exists = apiError(409, status(409, "AlreadyExists", 'secrets "t" already exists'));
    expect([isConflict(conflict), isAlreadyExists(conflict), normalizeError(conflict).retryable]).toEqual([
      true,
      false,
      true,
    ]);
    expect([isConflict(exists), isAlreadyExists(exists), normalizeError(exists).retryable]).toEqual([
      false,
      true,
      false,
    ]);
  });

  it("handles a 401 without a body and a 422 Invalid", () => {
    expect(normalizeError(apiError(401, undefined))).toMatchObject({
      reason: "Unauthorized",
      message: "HTTP 401 Unauthorized",
      retryable: false,
    });
    const invalid = apiError(422, status(422, "Invalid", "spec.port: Invalid value"));
    expect(isInvalid(invalid)).toBe(true);
    expect(normalizeError(invalid).retryable).toBe(false);
  });

  it("treats 5xx other than 501 as retryable", () => {
    expect(normalizeError(apiError(503, "")).retryable).toBe(true);
    expect(normalizeError(apiError(501, "")).retryable).toBe(false);
  });

  it("classifies by the cause of a wrapping error and keeps both messages", () => {
    const inner = apiError(409, status(409, "Conflict", "modified"));
    const e = normalizeError(new Error("writing status", { cause: inner }));
    expect(e).toMatchObject({ kind: "api", reason: "Conflict", message: "writing status: modified" });
    const tls = new TypeError("fetch failed", {
      cause: Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
    });
    expect(normalizeError(tls)).toMatchObject({ kind: "network", retryable: false });
    const aggregate = new TypeError("fetch failed", {
      cause: new AggregateError([Object.assign(new Error("connect ETIMEDOUT 10.0.0.1:443"), { code: "ETIMEDOUT" })]),
    });
    expect(normalizeError(aggregate)).toMatchObject({ kind: "network", retryable: true });
  });

  it("normalises anything thrown without echoing its values", () => {
    expect(normalizeError("plain string")).toMatchObject({ kind: "unknown", message: "plain string" });
    expect(normalizeError(undefined)).toMatchObject({ kind: "unknown", message: "non-error thrown: undefined" });
    const e = normalizeError({ password: "hunter2", user: "a" });
    expect(e.message).toBe("non-error object thrown (keys: password, user)");
    expect(normalizeError(new RangeError("bad"))).toEqual({ kind: "unknown", message: "bad", retryable: true });
  });

  it("scrubs credentials that a message happens to contain and bounds its length", () => {
    const e = normalizeError(new Error(`sent Authorization: Bearer ${TOKEN} and Basic dXNlcjpwYXNz`));
    expect(e.message).toBe("sent Authorization: Bearer [redacted] and Basic [redacted]");
    expect(normalizeError(new Error("x".repeat(10_000))).message.length).toBeLessThanOrEqual(2049);
  });

  it("returns an already normalised error unchanged, and predicates accept either form", () => {
    const e = normalizeError(apiError(404, status(404, "NotFound", "gone")));
    expect(normalizeError(e)).toBe(e);
    expect(isNotFound(e)).toBe(true);
  });
});
