// PooledKubeConfig against the real API server: the client library opens a TLS connection per
// request on its own; pooled, many requests (one after another and at once) share one, and a
// changed bearer token is still sent at once. Connections are counted where undici reports them.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bufferFromFileOrString, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
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

/** The admin's server, CA and token, as a Pod's environment and projected volume carry them. */
function asInCluster(): { prefix: string; host: string; port: string; token: string } {
  const admin = new KubeConfig();
  admin.loadFromString(adminConfig);
  const cluster = admin.getCurrentCluster();
  const token = admin.getCurrentUser()?.token;
  const ca = cluster && bufferFromFileOrString(cluster.caFile, cluster.caData);
  if (!cluster || !ca || !token) throw new Error("the admin kubeconfig carries no CA or token");
  const url = new URL(cluster.server);
  const prefix = mkdtempSync(join(tmpdir(), "eao-incluster-"));
  const dir = join(prefix, "var", "run", "secrets", "kubernetes.io", "serviceaccount");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "ca.crt"), ca);
  writeFileSync(join(dir, "token"), token);
  writeFileSync(join(dir, "namespace"), "default");
  return { prefix, host: url.hostname, port: url.port, token };
}

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

  it("pools a Pod's in-cluster configuration (a token file), but not credentials from an exec plugin", async () => {
    const pod = asInCluster();
    const env = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    const inCluster = new PooledKubeConfig();
    try {
      process.env.KUBERNETES_SERVICE_HOST = pod.host;
      process.env.KUBERNETES_SERVICE_PORT = pod.port;
      inCluster.loadFromCluster(pod.prefix);
      expect(inCluster.getCurrentUser()?.authProvider).toMatchObject({ name: "tokenFile" });
      await twentyRequests(inCluster);
      expect(connections).toBe(1);
      // The CA file was read once, not per request: gone now, it is not missed.
      rmSync(join(pod.prefix, "var", "run", "secrets", "kubernetes.io", "serviceaccount", "ca.crt"));
      const ns = await inCluster.makeApiClient(CoreV1Api).readNamespace({ name: "default" });
      expect(ns.metadata?.name).toBe("default");
      expect(connections).toBe(1);

      // An exec plugin may hand out a client certificate of its own: every request builds its own.
      connections = 0;
      const plugin = join(pod.prefix, "credential-plugin");
      const credential = {
        apiVersion: "client.authentication.k8s.io/v1",
        kind: "ExecCredential",
        status: { token: pod.token },
      };
      writeFileSync(plugin, `#!/bin/sh\necho '${JSON.stringify(credential)}'\n`);
      chmodSync(plugin, 0o755);
      const execConfig = new PooledKubeConfig();
      execConfig.loadFromString(adminConfig);
      const user = execConfig.getCurrentUser();
      if (!user) throw new Error("no current user");
      execConfig.users = [
        {
          name: user.name,
          exec: { apiVersion: "client.authentication.k8s.io/v1", command: plugin, interactiveMode: "Never" },
        },
      ];
      await twentyRequests(execConfig);
      expect(connections).toBeGreaterThanOrEqual(20);
      await execConfig.closePools();
    } finally {
      for (const [name, value] of [
        ["KUBERNETES_SERVICE_HOST", env.host],
        ["KUBERNETES_SERVICE_PORT", env.port],
      ] as const)
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      await inCluster.closePools();
      rmSync(pod.prefix, { recursive: true, force: true });
    }
  });
});
