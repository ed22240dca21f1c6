import { readFileSync, rmSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { Agent, request } from "node:http";
import { connect, type TLSSocket } from "node:tls";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createTestPki, type TestPki } from "../../test/harness/pki.ts";
import {
  checkPair,
  createApiListener,
  KEEP_ALIVE_TIMEOUT_MS,
  type ApiListener,
  type CertificatePair,
} from "./tls-server.ts";

const pairOf = (pki: TestPki): CertificatePair => ({
  cert: readFileSync(pki.certFile, "utf8"),
  key: readFileSync(pki.keyFile, "utf8"),
});
const fingerprintOf = (pki: TestPki) => new X509Certificate(readFileSync(pki.certFile)).fingerprint256;
const [a, b] = [createTestPki(), createTestPki()];
afterAll(() => {
  for (const pki of [a, b]) rmSync(pki.dir, { recursive: true, force: true });
});

let listener: ApiListener | undefined;
afterEach(async () => {
  listener?.server.closeAllConnections();
  await new Promise<void>((r) => (listener ? listener.server.close(() => r()) : r()));
  listener = undefined;
});

async function listen(l: ApiListener): Promise<number> {
  await new Promise<void>((r) => l.server.listen(0, "127.0.0.1", r));
  const address = l.server.address();
  return typeof address === "object" && address ? address.port : 0;
}

/** A handshake trusting both test CAs: the leaf's fingerprint, or the error. */
function handshake(port: number): Promise<{ socket: TLSSocket; fingerprint: string } | Error> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, ca: [a.caPem, b.caPem] }, () =>
      resolve({ socket, fingerprint: socket.getPeerX509Certificate()?.fingerprint256 ?? "" }),
    );
    socket.once("error", (e: Error) => resolve(e));
  });
}

describe("checkPair", () => {
  it("accepts a matching pair and describes it without key material", () => {
    const checked = checkPair(pairOf(a));
    expect(checked.ok && checked.certificate.fingerprint).toBe(fingerprintOf(a));
    expect(checked.ok && checked.certificate.notAfter.getTime()).toBeGreaterThan(Date.now());
    expect(JSON.stringify(checked)).not.toContain("PRIVATE KEY");
  });

  it("refuses a key of another certificate, and text that is not PEM", () => {
    expect(checkPair({ cert: pairOf(a).cert, key: pairOf(b).key })).toEqual({
      ok: false,
      reason: "tls.key does not belong to the certificate in tls.crt",
    });
    expect(checkPair({ cert: "nope", key: pairOf(a).key })).toEqual({
      ok: false,
      reason: "tls.crt is not a PEM certificate",
    });
    expect(checkPair({ cert: pairOf(a).cert, key: "nope" })).toMatchObject({ ok: false });
  });
});

describe("createApiListener with TLS", () => {
  it("fails handshakes until a certificate is installed, then serves the newest to new connections", async () => {
    listener = createApiListener((_req, res) => res.end("ok"), true);
    const port = await listen(listener);
    expect(await handshake(port)).toBeInstanceOf(Error);

    expect(listener.useCertificate(pairOf(a)).ok).toBe(true);
    const first = await handshake(port);
    if (first instanceof Error) throw first;
    expect(first.fingerprint).toBe(fingerprintOf(a));

    expect(listener.useCertificate(pairOf(b)).ok).toBe(true);
    const second = await handshake(port);
    if (second instanceof Error) throw second;
    expect(second.fingerprint).toBe(fingerprintOf(b));
    // The connection opened before the rotation is not cut: it still answers a request.
    const answer = new Promise<string>((r) => first.socket.once("data", (d: Buffer) => r(d.toString())));
    first.socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(await answer).toMatch(/^HTTP\/1\.1 200[\s\S]*ok$/);
    first.socket.destroy();
    second.socket.destroy();

    // A broken pair is refused; the server keeps serving the last good one.
    expect(listener.useCertificate({ cert: pairOf(a).cert, key: pairOf(b).key }).ok).toBe(false);
    expect(listener.current()?.fingerprint).toBe(fingerprintOf(b));
    const third = await handshake(port);
    if (third instanceof Error) throw third;
    expect(third.fingerprint).toBe(fingerprintOf(b));
    third.socket.destroy();
  });

  it("offers nothing below TLS 1.2", async () => {
    listener = createApiListener((_req, res) => res.end("ok"), true);
    listener.useCertificate(pairOf(a));
    const port = await listen(listener);
    const result = await new Promise<Error | undefined>((resolve) => {
      const socket = connect(
        { host: "127.0.0.1", port, ca: a.caPem, maxVersion: "TLSv1.1", minVersion: "TLSv1" },
        () => {
          socket.destroy();
          resolve(undefined);
        },
      );
      socket.once("error", resolve);
    });
    expect(result).toBeInstanceOf(Error);
  });
});

describe("createApiListener without TLS", () => {
  it("serves plain HTTP and takes no certificate", async () => {
    listener = createApiListener((_req, res) => res.end("plain"), false);
    const port = await listen(listener);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe("plain");
    expect(listener.useCertificate(pairOf(a)).ok).toBe(false);
  });
});

describe("keep-alive connections", () => {
  /** A GET over `agent`: the body, whether it went over a pooled connection, and the server's hint. */
  const get = (port: number, agent: Agent) =>
    new Promise<{ body: string; reused: boolean; keepAlive?: string }>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, agent }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolve({ body, reused: req.reusedSocket, keepAlive: String(res.headers["keep-alive"]) }));
      });
      req.on("error", reject);
      req.end();
    });

  it("outlive Node's 5 s default, so a client or proxy that pools them is the side that closes", async () => {
    listener = createApiListener((_req, res) => res.end("ok"), false);
    const port = await listen(listener);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await get(port, agent);
      expect(first).toMatchObject({ body: "ok", reused: false });
      expect(first.keepAlive).toBe(`timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}`);
      // Idle past the 5 s after which Node would have closed it.
      await new Promise((r) => setTimeout(r, 6_000));
      expect(await get(port, agent)).toMatchObject({ body: "ok", reused: true });
    } finally {
      agent.destroy();
    }
  }, 20_000);

  it("close lets a request in flight finish, then closes its connection without waiting out the keep-alive", async () => {
    let arrived!: () => void;
    const inFlight = new Promise<void>((r) => (arrived = r));
    listener = createApiListener((_req, res) => {
      arrived();
      setTimeout(() => res.end("finished"), 200);
    }, false);
    const l = listener;
    const port = await listen(l);
    const agent = new Agent({ keepAlive: true });
    try {
      const answer = get(port, agent);
      await inFlight;
      const closed = l.close().then(() => "closed" as const);
      expect(await answer).toMatchObject({ body: "finished" });
      const outcome = await Promise.race([
        closed,
        new Promise<"still open">((r) => setTimeout(() => r("still open"), 10_000)),
      ]);
      expect(outcome).toBe("closed");
      listener = undefined;
    } finally {
      agent.destroy();
    }
  }, 20_000);
});
