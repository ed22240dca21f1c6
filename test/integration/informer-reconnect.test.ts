// The informer across an API server restart, on a control plane of its own so the shared one
// stays up for the other files. The API server's own metrics show how many watches are open.
import { CoreV1Api, HttpMethod, IsomorphicFetchHttpLibrary, RequestContext } from "@kubernetes/client-node";
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInformer } from "@emailauth/operator-runtime";
import type { InformerMetrics, RestartReason } from "@emailauth/operator-runtime";
import { createLogger } from "../../src/log/logger.ts";
import { Backoff } from "@emailauth/operator-runtime";
import { ControlPlane } from "../harness/controlplane.ts";
import { createTestNamespace } from "../harness/context.ts";
import { waitFor } from "../harness/wait.ts";
import { KubeClient } from "@emailauth/operator-runtime";

let plane: ControlPlane;
let admin: KubeConfig;
let ns = "";
const log = createLogger({ level: "silent" });

beforeAll(async () => {
  plane = await ControlPlane.start();
  admin = plane.admin();
  ns = await createTestNamespace(admin, "reconnect");
});

afterAll(async () => {
  await plane?.stop();
});

const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) =>
  waitFor(async () => ((await check()) ? true : undefined), { what, timeoutMs, intervalMs: 50 });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function recorder(): InformerMetrics & { restarts: RestartReason[] } {
  const m = {
    restarts: [] as RestartReason[],
    onWatchRestart: (_: string, r: RestartReason) => m.restarts.push(r),
    onEvent: () => {},
  };
  return m;
}

/** Namespaced ConfigMap watches open in the API server, from its apiserver_longrunning_requests gauge. */
async function openConfigMapWatches(): Promise<number> {
  const ctx = new RequestContext(`${plane.info.server}/metrics`, HttpMethod.GET);
  await admin.applySecurityAuthentication(ctx);
  const res = await new IsomorphicFetchHttpLibrary().send(ctx).toPromise();
  const text = await res.body.text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith("apiserver_longrunning_requests{")) continue;
    if (line.includes('resource="configmaps"') && line.includes('scope="namespace"') && line.includes('verb="WATCH"')) {
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return total;
}

function configMapInformer(metrics: InformerMetrics) {
  const informer = createInformer<KubernetesObject>(
    new KubeClient(admin),
    { group: "", version: "v1", plural: "configmaps", namespace: ns },
    { log, metrics, resyncPeriodMs: 0, backoff: new Backoff({ initialMs: 200, maxMs: 2000 }) },
  );
  const added: string[] = [];
  informer.onAdd((o) => added.push(o.metadata?.name ?? ""));
  return { informer, added };
}

describe("informer reconnect", () => {
  it("survives an API server restart, sees changes made afterwards, and never holds two watches", async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const metrics = recorder();
    const { informer, added } = configMapInformer(metrics);
    informer.start();
    expect(await informer.waitForSync()).toBe(true);
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "before" } } });
    await until("add before", () => added.includes("before"));

    await plane.stopApiServer();
    await until("the broken watch to be noticed", () => metrics.restarts.includes("error"));
    await pause(1500); // a few failed reconnects while the server is away
    await plane.startApiServer();
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: "after" } } });
    await until("add after", () => added.includes("after"));
    expect(informer.hasSynced()).toBe(true);
    expect(informer.get(ns, "before")).toBeDefined();
    expect(added.filter((n) => n === "before")).toHaveLength(1); // a relist does not re-announce it

    // Exactly one of the open watches is ours: stopping the informer closes one, no more.
    await pause(500);
    const running = await openConfigMapWatches();
    expect(running).toBeGreaterThanOrEqual(1);
    const stopping = Date.now();
    await informer.stop();
    expect(Date.now() - stopping).toBeLessThan(2000);
    await until("our watch to close", async () => (await openConfigMapWatches()) === running - 1, 10_000);
    // The new server's watch cache starts past our resourceVersion, so the resumed watch is
    // usually answered 410 and the informer relists; either way nothing was missed.
    expect(metrics.restarts[0]).toBe("error");
  });

  it("stops promptly while the API server is down", async () => {
    const metrics = recorder();
    const { informer } = configMapInformer(metrics);
    informer.start();
    await informer.waitForSync();
    await plane.stopApiServer();
    try {
      await until("a failed attempt", () => metrics.restarts.includes("error"));
      const stopping = Date.now();
      await informer.stop();
      expect(Date.now() - stopping).toBeLessThan(1000);
    } finally {
      await plane.startApiServer();
    }
  });
});
