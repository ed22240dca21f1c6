import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { startHealthServer, type HealthServer } from "./health-server.ts";

let server: HealthServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function listen(): Promise<{ s: HealthServer; get: (path: string) => Promise<Response> }> {
  const s = await startHealthServer({ port: 0, host: "127.0.0.1" });
  server = s;
  return { s, get: (path) => fetch(`http://127.0.0.1:${s.port}${path}`) };
}

describe("health server", () => {
  it("is live at once, started when told, ready once started and every check passes, naming the rest", async () => {
    const { s, get } = await listen();
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/livez")).status).toBe(200);
    const starting = await get("/readyz");
    expect([starting.status, await starting.text()]).toEqual([503, "not ready: starting\n"]);
    expect((await get("/startz")).status).toBe(503);

    let synced = false;
    s.addReadinessCheck({ name: "informer emailauthenticatorstages", ready: () => synced });
    expect((await get("/readyz")).status).toBe(503); // still starting: more checks may come
    s.started();
    expect((await get("/startz")).status).toBe(200);
    const notReady = await get("/readyz");
    expect([notReady.status, await notReady.text()]).toEqual([503, "not ready: informer emailauthenticatorstages\n"]);
    synced = true;
    expect((await get("/readyz")).status).toBe(200);
    expect((await get("/nope")).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${s.port}/healthz`, { method: "POST" })).status).toBe(405);
  });

  it("serves /metrics from a registry given after it started listening", async () => {
    const { s, get } = await listen();
    expect((await get("/metrics")).status).toBe(503);
    const registry = new Registry();
    registry.setDefaultLabels({ app: "test" });
    s.serveMetrics(registry);
    const metrics = await get("/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toBe(registry.contentType);
  });

  it("holds a starting process's /readyz?wait= until ready, so the first probe passes", async () => {
    const { s, get } = await listen();
    let synced = false;
    s.addReadinessCheck({ name: "caches", ready: () => synced });
    const t0 = Date.now();
    const held = get("/readyz?wait=5");
    setTimeout(() => s.started(), 150);
    setTimeout(() => (synced = true), 300);
    const answer = await held;
    expect([answer.status, await answer.text()]).toEqual([200, "ok\n"]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(3000);
  });

  it("holds /startz?wait= until the process has loaded, whatever the readiness checks say", async () => {
    const { s, get } = await listen();
    s.addReadinessCheck({ name: "caches", ready: () => false });
    const held = get("/startz?wait=5");
    setTimeout(() => s.started(), 200);
    const answer = await held;
    expect([answer.status, await answer.text()]).toEqual([200, "ok\n"]);
    expect((await get("/readyz")).status).toBe(503);
  });

  it("answers a held /readyz with 503 when the wait ends first", async () => {
    const { s, get } = await listen();
    s.addReadinessCheck({ name: "caches", ready: () => false });
    s.started();
    const t0 = Date.now();
    const answer = await get("/readyz?wait=0.3");
    expect([answer.status, await answer.text()]).toEqual([503, "not ready: caches\n"]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it("never holds /readyz once the process has been ready: a later failure shows at once", async () => {
    const { s, get } = await listen();
    let ok = true;
    s.addReadinessCheck({ name: "API serving certificate", ready: () => ok });
    s.started();
    expect((await get("/readyz?wait=5")).status).toBe(200);
    ok = false;
    const t0 = Date.now();
    const answer = await get("/readyz?wait=5");
    expect([answer.status, await answer.text()]).toEqual([503, "not ready: API serving certificate\n"]);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it("answers held probes when it closes instead of keeping the close waiting", async () => {
    const { s, get } = await listen();
    const held = get("/readyz?wait=30");
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await s.close();
    server = undefined;
    expect((await held).status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
