import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { ApiException, CoreV1Api, CustomObjectsApi, KubeConfig, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

/** A tiny stand-in API server, so that the errors below are the ones client-node really throws. */
const server = createServer((req, res) => {
  const url = req.url ?? "";
  const headers = { "content-type": "application/json", "x-private": "private-header-value" };
  if (url.includes("watch=true")) {
    res.writeHead(410).end();
  } else if (url.includes("/plain/")) {
    res.writeHead(404, { "content-type": "text/plain" }).end("404 page not found\n");
  } else if (url.includes("/busy/")) {
    res.writeHead(429, { ...headers, "retry-after": "7" }).end(status(429, "TooManyRequests", "slow down"));
  } else if (url.includes("/reset/")) {
    req.socket.destroy();
  } else {
    res
      .writeHead(404, headers)
      .end(status(404, "NotFound", 'secrets "smtp" not found', { name: "smtp", kind: "secrets" }));
  }
});
let port = 0;

function kubeConfig(p: number): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: `http://127.0.0.1:${p}`, skipTLSVerify: true }],
    users: [{ name: "u", token: TOKEN }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

async function thrownBy(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return p;
}

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("normalizeError with client-node's real errors", () => {
  it("reads the Status of an ApiException and leaves out headers and the token", async () => {
    const err = await thrownBy(() =>
      kubeConfig(port).makeApiClient(CoreV1Api).readNamespacedSecret({ name: "smtp", namespace: "d" }),
    );
    expect(err).toBeInstanceOf(ApiException);
    const e = normalizeError(err);
    expect(e).toEqual({
      kind: "api",
      status: 404,
      reason: "NotFound",
      message: 'secrets "smtp" not found',
      retryable: false,
    });
    expect(isNotFound(err)).toBe(true);
    expect(JSON.stringify(e)).not.toMatch(/private-header-value|sekret/);
  });

  it("uses a plain-text body as the message and the status code for the reason", async () => {
    const api = kubeConfig(port).makeApiClient(CustomObjectsApi);
    const err = await thrownBy(() =>
      api.getNamespacedCustomObject({
        group: "emailauth.dev",
        version: "v1alpha1",
        namespace: "d",
        plural: "plain",
        name: "n",
      }),
    );
    expect(normalizeError(err)).toMatchObject({
      kind: "api",
      status: 404,
      reason: "NotFound",
      message: "404 page not found",
    });
  });

  it("marks 429 retryable and keeps the server's Retry-After", async () => {
    const api = kubeConfig(port).makeApiClient(CustomObjectsApi);
    const err = await thrownBy(() =>
      api.getNamespacedCustomObject({
        group: "emailauth.dev",
        version: "v1alpha1",
        namespace: "d",
        plural: "busy",
        name: "n",
      }),
    );
    expect(normalizeError(err)).toMatchObject({
      status: 429,
      reason: "TooManyRequests",
      retryable: true,
      retryAfterSeconds: 7,
    });
  });

  it("reads a failed watch (Error with statusCode)", async () => {
    const err = await new Promise<unknown>((resolve) => {
      void new Watch(kubeConfig(port)).watch("/api/v1/secrets", {}, () => {}, resolve);
    });
    expect(normalizeError(err)).toMatchObject({
      kind: "api",
      status: 410,
      reason: "Gone",
      message: "Gone",
      retryable: true,
    });
    expect(isGone(err)).toBe(true);
  });

  it("classifies a refused connection as a retryable network error", async () => {
    const p = await closedPort();
    const err = await thrownBy(() => kubeConfig(p).makeApiClient(CoreV1Api).listNamespace());
    const e = normalizeError(err);
    expect(e).toMatchObject({ kind: "network", retryable: true });
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.status).toBeUndefined();
  });

  it("classifies a connection closed by the server (UND_ERR_SOCKET) as network", async () => {
    const api = kubeConfig(port).makeApiClient(CustomObjectsApi);
    const err = await thrownBy(() =>
      api.getNamespacedCustomObject({
        group: "emailauth.dev",
        version: "v1alpha1",
        namespace: "d",
        plural: "reset",
        name: "n",
      }),
    );
    expect(normalizeError(err)).toMatchObject({ kind: "network", retryable: true });
  });

  it("classifies aborted and timed-out requests", async () => {
    const aborted = await thrownBy(() => fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.abort() }));
    expect(normalizeError(aborted)).toEqual({ kind: "aborted", message: "request aborted", retryable: false });
    const timedOut = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    expect(normalizeError(timedOut)).toMatchObject({ kind: "network", reason: "Timeout", retryable: true });
  });
});

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
    const conflict = new ApiException(409, "", status(409, "Conflict", "the object has been modified"), {});
    const exists = new ApiException(409, "", status(409, "AlreadyExists", 'secrets "t" already exists'), {});
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
    expect(normalizeError(new ApiException(401, "Unauthorized", undefined, {}))).toMatchObject({
      reason: "Unauthorized",
      message: "HTTP 401 Unauthorized",
      retryable: false,
    });
    const invalid = new ApiException(422, "", status(422, "Invalid", "spec.port: Invalid value"), {});
    expect(isInvalid(invalid)).toBe(true);
    expect(normalizeError(invalid).retryable).toBe(false);
  });

  it("treats 5xx other than 501 as retryable", () => {
    expect(normalizeError(new ApiException(503, "", "", {})).retryable).toBe(true);
    expect(normalizeError(new ApiException(501, "", "", {})).retryable).toBe(false);
  });

  it("classifies by the cause of a wrapping error and keeps both messages", () => {
    const inner = new ApiException(409, "", status(409, "Conflict", "modified"), {});
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
    const e = normalizeError(new ApiException(404, "", status(404, "NotFound", "gone"), {}));
    expect(normalizeError(e)).toBe(e);
    expect(isNotFound(e)).toBe(true);
  });
});
