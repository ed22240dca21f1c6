// The HTTP API over TLS from a watched Secret, and tokens checked for the API's audience: a
// certificate replaced while serving reaches new connections without a restart; a token minted
// for the Kubernetes API server (or anything else) is refused with a Bearer challenge.
import { X509Certificate } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { connect, type TLSSocket } from "node:tls";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, startApiFixture } from "../harness/api-fixture.ts";
import { OPERATOR_NAMESPACE, serviceAccountToken } from "../harness/controlplane.ts";
import { controlPlane } from "../harness/context.ts";
import { createTestPki, type TestPki } from "../harness/pki.ts";
import { waitFor } from "../harness/wait.ts";

const [a, b] = [createTestPki(), createTestPki()];
const secretName = `api-tls-${Math.random().toString(16).slice(2, 10)}`;
const fingerprint = (pki: TestPki) => new X509Certificate(readFileSync(pki.certFile)).fingerprint256;
const core = () => controlPlane().admin().makeApiClient(CoreV1Api);
const secretBody = (pki: TestPki) => ({
  metadata: { name: secretName, namespace: OPERATOR_NAMESPACE },
  type: "kubernetes.io/tls",
  stringData: { "tls.crt": readFileSync(pki.certFile, "utf8"), "tls.key": readFileSync(pki.keyFile, "utf8") },
});

let f: ApiFixture;
let port = 0;

beforeAll(async () => {
  await core().createNamespacedSecret({ namespace: OPERATOR_NAMESPACE, body: secretBody(a) });
  f = await startApiFixture("tls", { args: [`--tls-secret=${secretName}`] });
  port = Number(new URL(f.url ?? "").port);
  await waitFor(async () => ((await peer(port)) === fingerprint(a) ? true : undefined), {
    what: "the first certificate",
    timeoutMs: 20_000,
    intervalMs: 100,
  });
});

afterAll(async () => {
  await f?.stop();
  await core()
    .deleteNamespacedSecret({ namespace: OPERATOR_NAMESPACE, name: secretName })
    .catch(() => undefined);
  for (const pki of [a, b]) rmSync(pki.dir, { recursive: true, force: true });
});

/** The fingerprint a new connection is served, trusting both CAs; undefined if the handshake fails. */
function peer(p: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port: p, ca: [a.caPem, b.caPem] }, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256);
      socket.destroy();
    });
    socket.once("error", () => resolve(undefined));
  });
}

/** One HTTPS request on a new connection, trusting only `ca`. */
function call(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; ca?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        agent: false,
        ca: opts.ca ?? [a.caPem, b.caPem],
        headers: {
          ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
          ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.once("error", reject);
    req.end(opts.body === undefined ? undefined : JSON.stringify(opts.body));
  });
}

const startPath = () => `/api/v1/namespaces/${f.ns}/flows/no-such-flow/executions`;
const user = { user: { id: "alice" } };

describe("the HTTP API over TLS", () => {
  it("refuses plain HTTP on the TLS port", async () => {
    await expect(fetch(`http://127.0.0.1:${port}/openapi.json`)).rejects.toThrow();
  });

  it("serves the API, and asks for a bearer token with WWW-Authenticate", async () => {
    expect((await call("GET", "/openapi.json")).status).toBe(200);
    const anonymous = await call("POST", startPath(), { body: user });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toBe('Bearer realm="emailauth"');
    const garbage = await call("POST", startPath(), { body: user, token: "not-a-token" });
    expect(garbage.status).toBe(401);
    expect(garbage.headers["www-authenticate"]).toBe('Bearer realm="emailauth", error="invalid_token"');
  });

  it("accepts a token for the API's audience and refuses the same identity's token for the API server", async () => {
    // f.appToken was minted with --audience emailauth.dev/api and may execute every flow here.
    const withAudience = await call("POST", startPath(), { body: user, token: f.appToken });
    expect(withAudience.status).toBe(404); // authenticated and allowed: the flow does not exist
    const plainToken = await serviceAccountToken(f.admin, f.ns, "app"); // default audience: the API server
    const refused = await call("POST", startPath(), { body: user, token: plainToken });
    expect(refused.status).toBe(401);
    expect(JSON.parse(refused.body)).toMatchObject({ code: "unauthorized" });
    expect(refused.headers["www-authenticate"]).toContain("invalid_token");
    const other = await serviceAccountToken(f.admin, f.ns, "app", undefined, ["https://other.example"]);
    expect((await call("POST", startPath(), { body: user, token: other })).status).toBe(401);
  });

  it("serves a replaced certificate to new connections without a restart; open ones keep working", async () => {
    const open = await new Promise<TLSSocket>((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port, ca: a.caPem }, () => resolve(s));
      s.once("error", reject);
    });
    await core().replaceNamespacedSecret({ namespace: OPERATOR_NAMESPACE, name: secretName, body: secretBody(b) });
    const started = Date.now();
    await waitFor(async () => ((await peer(port)) === fingerprint(b) ? true : undefined), {
      what: "the replaced certificate on new connections",
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    console.log(`certificate rotation reached new connections after ${Date.now() - started} ms`);
    // Trusting only the new CA works now; only the old one does not.
    expect((await call("GET", "/openapi.json", { ca: b.caPem })).status).toBe(200);
    await expect(call("GET", "/openapi.json", { ca: a.caPem })).rejects.toThrow();
    // The connection made before the rotation still answers.
    const answer = new Promise<string>((r) => open.once("data", (d: Buffer) => r(d.toString())));
    open.write("GET /openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(await answer).toMatch(/^HTTP\/1\.1 200/);
    open.destroy();
    const metrics = (await f.metrics?.()) ?? "";
    const expiry = new X509Certificate(readFileSync(b.certFile)).validTo;
    expect(metrics).toContain(
      `emailauth_api_certificate_expiry_timestamp_seconds ${new Date(expiry).getTime() / 1000}`,
    );
  });

  it("keeps the last good certificate when the Secret is replaced with a broken pair", async () => {
    const broken = secretBody(b);
    broken.stringData["tls.key"] = readFileSync(a.keyFile, "utf8");
    await core().replaceNamespacedSecret({ namespace: OPERATOR_NAMESPACE, name: secretName, body: broken });
    await waitFor(() => (f.logs().includes("refused the serving certificate") ? true : undefined), {
      what: "the refusal in the log",
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    expect(await peer(port)).toBe(fingerprint(b));
    expect(f.logs()).not.toContain("PRIVATE KEY");
  });
});
