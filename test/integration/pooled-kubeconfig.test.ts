// PooledKubeConfig against the real API server: the client library opens a TLS connection per
// request on its own; pooled, many requests (one after another and at once) share one, and a
// changed bearer token is still sent at once. Connections are counted where undici reports them.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { PooledKubeConfig } from "@emailauth/operator-runtime";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { controlPlane } from "../harness/context.ts";

const adminConfig = controlPlane().admin().exportConfig();
let connections = 0;
const onConnected = () => connections++;

beforeEach(() => {
  connections = 0;
  subscribe("undici:client:connected", onConnected);
});
afterEach(() => {
  unsubscribe("undici:client:connected", onConnected);
});

/** 10 requests one after another, then 10 at once. */
async function twentyRequests(kc: KubeConfig): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  for (let i = 0; i < 10; i++) await core.readNamespace({ name: "default" });
  await Promise.all(Array.from({ length: 10 }, () => core.readNamespace({ name: "default" })));
}

describe("PooledKubeConfig", () => {
  it("sends many requests over one connection where the plain KubeConfig opens one per request", async () => {
    const plain = new KubeConfig();
    plain.loadFromString(adminConfig);
    await twentyRequests(plain);
    expect(connections).toBeGreaterThanOrEqual(20);

    connections = 0;
    const pooled = new PooledKubeConfig();
    pooled.loadFromString(adminConfig);
    try {
      await twentyRequests(pooled);
      expect(connections).toBe(1);
    } finally {
      await pooled.closePools();
    }
  });

  it("sends the current bearer token, not the one the pool was opened with", async () => {
    const pooled = new PooledKubeConfig();
    const withToken = (token: string) =>
      adminConfig.replace(/("token":\s*")[^"]*(")/, (_m, a: string, b: string) => `${a}${token}${b}`);
    expect(withToken("x")).not.toBe(adminConfig);
    try {
      pooled.loadFromString(withToken("not-a-valid-token"));
      const refused = await pooled
        .makeApiClient(CoreV1Api)
        .readNamespace({ name: "default" })
        .then(
          () => 0,
          (e: { code?: number }) => e.code ?? -1,
        );
      expect(refused).toBe(401);
      pooled.loadFromString(adminConfig);
      const ns = await pooled.makeApiClient(CoreV1Api).readNamespace({ name: "default" });
      expect(ns.metadata?.name).toBe("default");
    } finally {
      await pooled.closePools();
    }
  });
});
