// KubeClient's failures as callers see them, against a tiny stand-in API server: every answer
// and broken connection becomes an error that normalizeError reads, without leaking headers or
// the bearer token. (Pooling and credentials against the real API server: test/integration/kube-client.test.ts.)
import { createServer } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isNotFound, normalizeError } from "./errors.ts";
import { KubeApiError, KubeClient } from "./kube-client.ts";

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

/** A tiny stand-in API server, so that the errors below are the ones KubeClient really throws. */
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
  } else if (url.includes("/hang/")) {
    // never answers
  } else {
    res
      .writeHead(404, headers)
      .end(status(404, "NotFound", 'secrets "smtp" not found', { name: "smtp", kind: "secrets" }));
  }
});
let port = 0;

function kube(p: number): KubeClient {
  return new KubeClient({
    getCurrentCluster: () => ({ server: `http://127.0.0.1:${p}` }),
    getCurrentUser: () => ({ token: TOKEN }),
  });
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

describe("normalizeError with KubeClient's real errors", () => {
  it("reads the Status of a KubeApiError and leaves out headers and the token", async () => {
    const err = await thrownBy(() => kube(port).request("GET", "/api/v1/namespaces/d/secrets/smtp"));
    expect(err).toBeInstanceOf(KubeApiError);
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
    const err = await thrownBy(() => kube(port).request("GET", "/apis/emailauth.dev/v1alpha1/namespaces/d/plain/n"));
    expect(normalizeError(err)).toMatchObject({
      kind: "api",
      status: 404,
      reason: "NotFound",
      message: "404 page not found",
    });
  });

  it("marks 429 retryable and keeps the server's Retry-After", async () => {
    const err = await thrownBy(() => kube(port).request("GET", "/apis/emailauth.dev/v1alpha1/namespaces/d/busy/n"));
    expect(normalizeError(err)).toMatchObject({
      status: 429,
      reason: "TooManyRequests",
      retryable: true,
      retryAfterSeconds: 7,
    });
  });

  it("classifies a refused connection as a retryable network error", async () => {
    const p = await closedPort();
    const err = await thrownBy(() => kube(p).request("GET", "/api/v1/namespaces/d/secrets"));
    const e = normalizeError(err);
    expect(e).toMatchObject({ kind: "network", retryable: true });
    expect(e.message).toMatch(/ECONNREFUSED/);
    expect(e.status).toBeUndefined();
  });

  it("classifies a connection closed by the server (ECONNRESET) as network", async () => {
    const err = await thrownBy(() => kube(port).request("GET", "/apis/emailauth.dev/v1alpha1/namespaces/d/reset/n"));
    expect(normalizeError(err)).toMatchObject({ kind: "network", retryable: true });
  });

  it("classifies aborted and timed-out requests", async () => {
    // The stand-in server never answers anything under /namespaces/hang/.
    const client = kube(port);
    const hung = "/api/v1/namespaces/hang/secrets/n";
    const controller = new AbortController();
    const pending = thrownBy(() => client.request("GET", hung, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 50);
    expect(normalizeError(await pending)).toEqual({ kind: "aborted", message: "request aborted", retryable: false });
    const timedOut = await thrownBy(() => client.request("GET", hung, { timeoutMs: 50 }));
    expect(normalizeError(timedOut)).toMatchObject({ kind: "network", reason: "Timeout", retryable: true });
    const fetchAborted = await thrownBy(() => fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.abort() }));
    expect(normalizeError(fetchAborted)).toEqual({ kind: "aborted", message: "request aborted", retryable: false });
  });
});

describe("a kept-alive connection the server closed", () => {
  it("is retried once on a new connection when reusing it failed (a fresh one that fails is not: ECONNRESET above)", async () => {
    // A raw server: on its first connection it answers one request, keeps the connection open,
    // and drops it when the second request arrives, as a server that timed the connection out
    // just then would. Later connections answer every request.
    const connections: Socket[] = [];
    const server = createTcpServer((socket) => {
      const index = connections.push(socket);
      let seen = 0;
      let buffered = "";
      socket.on("data", (chunk) => {
        buffered += chunk.toString("latin1");
        while (buffered.includes("\r\n\r\n")) {
          buffered = buffered.slice(buffered.indexOf("\r\n\r\n") + 4);
          seen++;
          if (index === 1 && seen === 2) {
            socket.resetAndDestroy();
            return;
          }
          const body = JSON.stringify({ connection: index, request: seen });
          socket.write(
            `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n${body}`,
          );
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = kube((server.address() as AddressInfo).port);
    try {
      expect(await client.request("GET", "/api/v1/namespaces/d/secrets/a")).toEqual({ connection: 1, request: 1 });
      // Sent on the reused first connection, which the server drops: answered on a second one.
      expect(await client.request("GET", "/api/v1/namespaces/d/secrets/b")).toEqual({ connection: 2, request: 1 });
      expect(connections).toHaveLength(2);
    } finally {
      client.close();
      for (const c of connections) c.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
