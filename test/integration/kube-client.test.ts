// KubeClient against the real API server: requests share pooled connections (counted where
// Node.js reports every new client socket), a Pod's in-cluster configuration and an exec plugin
// included; a refused token is re-read at once; API errors arrive as the Status the server sent;
// a metadata-only list leaves the data out.
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig as ClientNodeConfig } from "@kubernetes/client-node";
import {
  type ClusterConfig,
  coreApi,
  isNotFound,
  KubeApiError,
  KubeClient,
  type KubeConfigSource,
  loadInCluster,
  normalizeError,
} from "@emailauth/operator-runtime";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { controlPlane } from "../harness/context.ts";
import { createTestPki } from "../harness/pki.ts";

const admin = controlPlane().admin();
const cluster = admin.getCurrentCluster()!;
const token = admin.getCurrentUser()!.token!;
const ca = cluster.caData ? Buffer.from(cluster.caData, "base64") : readFileSync(cluster.caFile!);
const dir = mkdtempSync(join(tmpdir(), "eao-kube-client-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let connections = 0;
const onSocket = () => connections++;
beforeEach(() => {
  connections = 0;
  subscribe("net.client.socket", onSocket);
});
afterEach(() => unsubscribe("net.client.socket", onSocket));

/** 10 requests one after another, then 10 at once twice: the second batch reuses the first's. */
async function requests(kube: KubeClient): Promise<{ sequential: number; firstBatch: number; secondBatch: number }> {
  const read = () => kube.request<{ metadata: { name: string } }>("GET", "/api/v1/namespaces/default");
  for (let i = 0; i < 10; i++) expect((await read()).metadata.name).toBe("default");
  const sequential = connections;
  await Promise.all(Array.from({ length: 10 }, read));
  const firstBatch = connections;
  await Promise.all(Array.from({ length: 10 }, read));
  return { sequential, firstBatch, secondBatch: connections };
}

function podDirectory(name: string): { dir: string; env: NodeJS.ProcessEnv } {
  const sa = join(dir, name);
  mkdirSync(sa);
  const url = new URL(cluster.server);
  writeFileSync(join(sa, "ca.crt"), ca);
  writeFileSync(join(sa, "token"), token);
  writeFileSync(join(sa, "namespace"), "default\n");
  return { dir: sa, env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port } };
}

describe("KubeClient", () => {
  it("sends requests over pooled keep-alive connections: one for requests in sequence, reused by later batches", async () => {
    const kube = new KubeClient(admin);
    try {
      const n = await requests(kube);
      expect(n.sequential).toBe(1);
      expect(n.firstBatch).toBeLessThanOrEqual(10);
      expect(n.secondBatch).toBe(n.firstBatch);
    } finally {
      kube.close();
    }
  });

  it("verifies the server: refused when signed by another CA or issued for another name, accepted when told to skip", async () => {
    const other = createTestPki(mkdtempSync(join(dir, "pki-")));
    const source = (c: Partial<ClusterConfig>): KubeConfigSource => ({
      getCurrentCluster: () => ({ server: cluster.server, caData: ca.toString("base64"), ...c }),
      getCurrentUser: () => ({ token }),
    });
    const attempt = async (c: Partial<ClusterConfig>) => {
      const kube = new KubeClient(source(c));
      try {
        return await kube.request<{ metadata: { name: string } }>("GET", "/api/v1/namespaces/default");
      } catch (e) {
        return e as NodeJS.ErrnoException;
      } finally {
        kube.close();
      }
    };
    const otherCa = Buffer.from(other.caPem).toString("base64");
    expect(await attempt({ caData: otherCa })).toMatchObject({
      code: expect.stringMatching(/CERT|SIGNATURE/) as unknown,
    });
    expect(await attempt({ tlsServerName: "not-the-api-server.example" })).toMatchObject({
      code: "ERR_TLS_CERT_ALTNAME_INVALID",
    });
    expect(await attempt({ caData: otherCa, skipTLSVerify: true })).toMatchObject({ metadata: { name: "default" } });
  });

  it("runs from a Pod's in-cluster configuration, reading the CA once and a rotated token after a 401", async () => {
    const pod = podDirectory("pod");
    const config = loadInCluster({ env: pod.env, serviceAccountDir: pod.dir });
    expect(config.namespace).toBe("default");
    const kube = new KubeClient(config);
    try {
      expect((await requests(kube)).sequential).toBe(1);
      // The CA file was read once: gone now, it is not missed.
      rmSync(join(pod.dir, "ca.crt"));
      await kube.request("GET", "/api/v1/namespaces/default");

      // The kubelet rotates the projected token: one refused is dropped and the file read again at once.
      const rotated = podDirectory("rotated");
      writeFileSync(join(rotated.dir, "token"), "not-a-valid-token");
      const fresh = new KubeClient(loadInCluster({ env: rotated.env, serviceAccountDir: rotated.dir }));
      const refused = await fresh.request("GET", "/api/v1/namespaces/default").catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(KubeApiError);
      expect(normalizeError(refused)).toMatchObject({ status: 401, reason: "Unauthorized" });
      writeFileSync(join(rotated.dir, "token"), token);
      const ns = await fresh.request<{ metadata: { name: string } }>("GET", "/api/v1/namespaces/default");
      expect(ns.metadata.name).toBe("default");
      fresh.close();
    } finally {
      kube.close();
    }
  });

  it("runs an exec plugin once for many requests and pools its connections too", async () => {
    const runs = join(dir, "plugin-runs");
    const plugin = join(dir, "credential-plugin");
    const credential = { apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status: { token } };
    writeFileSync(plugin, `#!/bin/sh\necho run >> '${runs}'\necho '${JSON.stringify(credential)}'\n`);
    chmodSync(plugin, 0o755);
    const config: KubeConfigSource = {
      getCurrentCluster: () => cluster,
      getCurrentUser: () => ({
        name: "exec",
        exec: { command: plugin, apiVersion: "client.authentication.k8s.io/v1" },
      }),
    };
    const kube = new KubeClient(config);
    try {
      const n = await requests(kube);
      expect(n.sequential).toBe(1);
      expect(n.secondBatch).toBe(n.firstBatch);
      expect(existsSync(runs) ? readFileSync(runs, "utf8").trim().split("\n") : []).toEqual(["run"]);
    } finally {
      kube.close();
    }
  });

  it("accepts @kubernetes/client-node's KubeConfig as its configuration", async () => {
    const kc = new ClientNodeConfig();
    kc.loadFromString(admin.exportConfig());
    const kube = new KubeClient(kc);
    try {
      const secret = await coreApi(kube)
        .readNamespacedSecret({ namespace: "default", name: "no-such-secret" })
        .catch((e: unknown) => e);
      expect(isNotFound(secret)).toBe(true);
      expect(normalizeError(secret).message).toBe('secrets "no-such-secret" not found');
    } finally {
      kube.close();
    }
  });

  it("lists Secrets as metadata alone, paged, with what a precondition and an expiry need", async () => {
    const kube = new KubeClient(admin);
    const core = coreApi(kube);
    const namespace = "default";
    const label = `eao-metadata-list-${Date.now()}`;
    try {
      for (let i = 0; i < 3; i++)
        await core.createNamespacedSecret({
          namespace,
          body: {
            metadata: { name: `${label}-${i}`, labels: { test: label }, annotations: { "example.com/at": String(i) } },
            data: { record: Buffer.from("not to be listed").toString("base64") },
          },
        });
      const first = await core.listNamespacedSecretMetadata({ namespace, labelSelector: `test=${label}`, limit: 2 });
      expect(first.kind).toBe("PartialObjectMetadataList");
      expect(first.items).toHaveLength(2);
      const rest = await core.listNamespacedSecretMetadata({
        namespace,
        labelSelector: `test=${label}`,
        limit: 2,
        continue: first.metadata?.continue,
      });
      const items = [...first.items, ...rest.items];
      expect(items.map((s) => s.metadata?.annotations?.["example.com/at"])).toEqual(["0", "1", "2"]);
      for (const item of items) {
        expect(item).not.toHaveProperty("data");
        expect(item.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
        expect(item.metadata?.resourceVersion).toBeTruthy();
      }
      // Nothing selected: the server's "items": null arrives as an empty list.
      const none = await core.listNamespacedSecretMetadata({ namespace, labelSelector: `test=${label}-none` });
      expect(none.items).toEqual([]);
    } finally {
      for (let i = 0; i < 3; i++)
        await core.deleteNamespacedSecret({ namespace, name: `${label}-${i}` }).catch(() => undefined);
      kube.close();
    }
  });
});
