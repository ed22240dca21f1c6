// The informer against the real API server: initial sync, live events, selectors, a custom kind
// with the operator's least-privilege identity, the 410 relist, the idle watchdog and resync.
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import { createInformer, Informer, KubeClient, type KubernetesObject } from "@emailauth/operator-runtime";
import type { InformerMetrics, InvalidObject, RestartReason } from "@emailauth/operator-runtime";
import { normalizeError } from "@emailauth/operator-runtime";
import { createListWatch } from "@emailauth/operator-runtime";
import type { ListWatch } from "@emailauth/operator-runtime";
import type { ResourceRef } from "@emailauth/operator-runtime";
import { createLogger } from "../../src/log/logger.ts";
import { Backoff } from "@emailauth/operator-runtime";
import { FakeClock } from "@emailauth/operator-runtime";
import { controlPlane, createTestNamespace, grantOperatorNamespace } from "../harness/context.ts";
import { waitFor } from "../harness/wait.ts";

const plane = controlPlane();
const admin = plane.admin();
const operator = plane.operator();
const core = admin.makeApiClient(CoreV1Api);
// The runtime's own client, as the operator uses it, for the caches under test.
const adminKube = new KubeClient(admin);
const operatorKube = new KubeClient(operator);
const log = createLogger({ level: "silent" });
let ns = "";

beforeAll(async () => {
  ns = await createTestNamespace(admin, "informer");
  // A watched namespace, as the chart binds one: the operator reads the kinds only where it watches.
  await grantOperatorNamespace(admin, ns);
});

type Obj = KubernetesObject & { data?: Record<string, string>; spec?: Record<string, unknown> };

/** Records handler calls as short strings: "add a", "update a", "delete b". */
function record(informer: Informer<Obj>): string[] {
  const seen: string[] = [];
  informer
    .onAdd((o) => seen.push(`add ${o.metadata?.name}`))
    .onUpdate((_old, o) => seen.push(`update ${o.metadata?.name}`))
    .onDelete((o) => seen.push(`delete ${o.metadata?.name}`));
  return seen;
}

function metricsRecorder(): InformerMetrics & { restarts: RestartReason[]; events: number } {
  const m = {
    restarts: [] as RestartReason[],
    events: 0,
    onWatchRestart: (_name: string, reason: RestartReason) => m.restarts.push(reason),
    onEvent: () => m.events++,
  };
  return m;
}

const until = (what: string, check: () => boolean, timeoutMs = 15_000) =>
  waitFor(() => (check() ? true : undefined), { what, timeoutMs, intervalMs: 20 });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const configMaps: ResourceRef = { group: "", version: "v1", plural: "configmaps" };

function cm(name: string, labels: Record<string, string>, v: string): V1ConfigMap {
  return { metadata: { name, namespace: ns, labels }, data: { v } };
}

async function setData(name: string, v: string): Promise<void> {
  const current = await core.readNamespacedConfigMap({ name, namespace: ns });
  await core.replaceNamespacedConfigMap({ name, namespace: ns, body: { ...current, data: { v } } });
}

describe("an informer on ConfigMaps of one namespace with a label selector", () => {
  it("syncs what exists, then reports creates, updates and deletes of matching objects only", async () => {
    const app = { app: "informer-basic" };
    await core.createNamespacedConfigMap({ namespace: ns, body: cm("a", app, "1") });
    await core.createNamespacedConfigMap({ namespace: ns, body: cm("b", app, "1") });
    await core.createNamespacedConfigMap({ namespace: ns, body: cm("unlabelled", {}, "1") });
    const informer = createInformer<Obj>(
      adminKube,
      { ...configMaps, namespace: ns },
      { log, labelSelector: "app=informer-basic", resyncPeriodMs: 0 },
    );
    const seen = record(informer);
    const updates: [string | undefined, string | undefined][] = [];
    informer.onUpdate((old, o) => updates.push([old.data?.v, o.data?.v]));
    // A failing handler is contained: the ones after it and later events are unaffected.
    informer.onAdd(() => {
      throw new Error("handler bug");
    });
    expect(informer.hasSynced()).toBe(false);
    informer.start();
    expect(await informer.waitForSync()).toBe(true);
    expect(informer.hasSynced()).toBe(true);
    expect(seen.sort()).toEqual(["add a", "add b"]);
    expect(
      informer
        .list(ns)
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(["a", "b"]);
    expect(informer.list("elsewhere")).toEqual([]);
    expect(informer.get(ns, "a")?.data).toEqual({ v: "1" });
    // Listed items get the kind and apiVersion that watch events carry.
    expect(informer.get(ns, "a")).toMatchObject({ kind: "ConfigMap", apiVersion: "v1" });
    expect(informer.get(ns, "unlabelled")).toBeUndefined();
    // The server keeps managedFields on every object; the cache does not (listed or watched).
    expect((await core.readNamespacedConfigMap({ name: "a", namespace: ns })).metadata?.managedFields).not.toEqual(
      undefined,
    );
    expect(informer.get(ns, "a")?.metadata).not.toHaveProperty("managedFields");

    seen.length = 0;
    await core.createNamespacedConfigMap({ namespace: ns, body: cm("c", app, "1") });
    await until("add c", () => seen.includes("add c"));
    await setData("a", "2");
    await until("update a", () => seen.includes("update a"));
    expect(updates).toEqual([["1", "2"]]);
    expect(informer.get(ns, "a")?.data).toEqual({ v: "2" });
    expect(informer.get(ns, "a")?.metadata).not.toHaveProperty("managedFields");
    await core.deleteNamespacedConfigMap({ name: "b", namespace: ns });
    await until("delete b", () => seen.includes("delete b"));
    expect(informer.get(ns, "b")).toBeUndefined();
    // An object that stops matching the selector is reported deleted by the server.
    const c = await core.readNamespacedConfigMap({ name: "c", namespace: ns });
    await core.replaceNamespacedConfigMap({
      name: "c",
      namespace: ns,
      body: { ...c, metadata: { ...c.metadata, labels: {} } },
    });
    await until("delete c", () => seen.includes("delete c"));
    await core.createNamespacedConfigMap({ namespace: ns, body: cm("unlabelled-2", {}, "1") });
    expect(seen).toEqual(["add c", "update a", "delete b", "delete c"]);
    expect(informer.resourceVersion).not.toBe("");

    const stopped = Date.now();
    await informer.stop();
    expect(Date.now() - stopped).toBeLessThan(2000);
    await core.createNamespacedConfigMap({ namespace: ns, body: cm("after-stop", app, "1") });
    await pause(500);
    expect(seen).not.toContain("add after-stop");
    expect(await informer.waitForSync()).toBe(true);
    expect(() => informer.start()).toThrow(/stopped/);
  });
});

describe("an informer with a decoder", () => {
  // What a controller would cache: the port already a number, nothing else of the ConfigMap.
  const relay = z.object({
    kind: z.literal("ConfigMap"),
    metadata: z.looseObject({ name: z.string(), namespace: z.string(), resourceVersion: z.string() }),
    data: z.object({ port: z.coerce.number().int().min(1).max(65_535) }),
  });

  it("caches parsed objects once; one that fails is kept apart, reported, and back once fixed", async () => {
    const app = { app: "informer-decode" };
    const relayMap = (name: string, port: string): V1ConfigMap => ({
      metadata: { name, namespace: ns, labels: app },
      data: { port },
    });
    await core.createNamespacedConfigMap({ namespace: ns, body: relayMap("good", "25") });
    await core.createNamespacedConfigMap({ namespace: ns, body: relayMap("bad", "secret-looking-value") });
    const setPort = async (name: string, port: string) => {
      const current = await core.readNamespacedConfigMap({ name, namespace: ns });
      await core.replaceNamespacedConfigMap({ name, namespace: ns, body: { ...current, data: { port } } });
    };
    const clock = new FakeClock();
    const lines: string[] = [];
    const warnLog = createLogger({ level: "warn", destination: { write: (line: string) => lines.push(line) } });
    let invalidCount = 0;
    const metrics = { ...metricsRecorder(), onInvalid: () => invalidCount++ };
    const informer = createInformer(
      adminKube,
      { ...configMaps, namespace: ns },
      { decode: relay, log: warnLog, clock, metrics, labelSelector: "app=informer-decode", resyncPeriodMs: 60_000 },
    );
    const seen: string[] = [];
    const invalid: InvalidObject[] = [];
    informer
      .onAdd((o) => seen.push(`add ${o.metadata.name}:${o.data.port + 0}`))
      .onUpdate((_old, o) => seen.push(`update ${o.metadata.name}:${o.data.port}`))
      .onDelete((o) => seen.push(`delete ${o.metadata.name}`))
      .onInvalid((i) => invalid.push(i));
    informer.start();
    expect(await informer.waitForSync()).toBe(true);

    // The initial LIST: the good one typed, the bad one out of the cache but reachable.
    expect(seen).toEqual(["add good:25"]);
    expect(informer.get(ns, "good")?.data.port).toBe(25);
    expect(informer.get(ns, "bad")).toBeUndefined();
    expect(informer.list(ns).map((o) => o.metadata.name)).toEqual(["good"]);
    expect(informer.invalid(ns, "bad")?.object.metadata?.name).toBe("bad");
    expect(informer.invalid(ns, "bad")?.error.message).toMatch(/^data\.port: /);
    expect(invalid.map((i) => i.object.metadata?.name)).toEqual(["bad"]);
    expect(invalidCount).toBe(1);
    expect(lines.join("")).toContain("object failed to decode");
    expect(lines.join("")).toContain(`${ns}/bad`);
    expect(lines.join("")).not.toContain("secret-looking-value");

    // A good object turning bad leaves the typed cache (handlers see a delete) ...
    seen.length = 0;
    invalid.length = 0;
    await setPort("good", "0");
    await until("good turned invalid", () => invalid.length === 1);
    expect(seen).toEqual(["delete good"]);
    expect(informer.get(ns, "good")).toBeUndefined();
    expect(informer.invalid(ns, "good")).toMatchObject({ object: { data: { port: "0" } } });
    // ... and is back as an add once fixed.
    await setPort("good", "587");
    await until("good fixed", () => seen.length === 2);
    expect(seen).toEqual(["delete good", "add good:587"]);
    expect(informer.invalid(ns, "good")).toBeUndefined();

    // Invalid objects are reported again at each resync, so a controller can keep them Stalled.
    invalid.length = 0;
    clock.advance(60_000);
    expect(invalid.map((i) => i.object.metadata?.name)).toEqual(["bad"]);

    // Deleting an invalid object forgets it; typed handlers never saw it, so they see nothing.
    seen.length = 0;
    await core.deleteNamespacedConfigMap({ name: "bad", namespace: ns });
    await until("bad forgotten", () => informer.invalid(ns, "bad") === undefined);
    await core.createNamespacedConfigMap({ namespace: ns, body: relayMap("later", "2525") });
    await until("add later", () => seen.length > 0);
    expect(seen).toEqual(["add later:2525"]);
    expect(invalidCount).toBe(2); // resync reminders are not new failures
    await informer.stop();
  });
});

describe("the list-watch", () => {
  it("lists in pages with continue tokens and returns one consistent resourceVersion", async () => {
    const app = { app: "informer-pages" };
    for (const name of ["p1", "p2", "p3", "p4", "p5"])
      await core.createNamespacedConfigMap({ namespace: ns, body: cm(name, app, "1") });
    const paged = createListWatch<Obj>(
      adminKube,
      { ...configMaps, namespace: ns },
      { labelSelector: "app=informer-pages", pageSize: 2 },
    );
    const whole = createListWatch<Obj>(
      adminKube,
      { ...configMaps, namespace: ns },
      { labelSelector: "app=informer-pages", pageSize: 0 },
    );
    const a = await paged.list(AbortSignal.timeout(10_000));
    const b = await whole.list(AbortSignal.timeout(10_000));
    expect(a.items.map((o) => o.metadata?.name)).toEqual(["p1", "p2", "p3", "p4", "p5"]);
    expect(b.items.map((o) => o.metadata?.name)).toEqual(["p1", "p2", "p3", "p4", "p5"]);
    expect(Number(a.resourceVersion)).toBeGreaterThan(0);
  });

  it("turns the server's ERROR event for a too-old resourceVersion into a 410 rejection", async () => {
    const lw = createListWatch<Obj>(operatorKube, {
      group: GROUP,
      version: VERSION,
      plural: "emaildevices",
      namespace: ns,
    });
    const events: string[] = [];
    const error = await lw
      .watch({ resourceVersion: "1", timeoutSeconds: 30, signal: AbortSignal.timeout(10_000) }, (e) =>
        events.push(e.type),
      )
      .then(
        () => undefined,
        (e: unknown) => normalizeError(e),
      );
    expect(error).toMatchObject({ kind: "api", status: 410, reason: "Expired" });
    expect(events).toEqual([]);
  });
});

describe("an informer refused by RBAC", () => {
  it("keeps retrying with backoff, never gives up, and syncs once access is granted", async () => {
    const denied = await createTestNamespace(admin, "informer-rbac");
    const metrics = metricsRecorder();
    const backoff = new Backoff({ initialMs: 100, maxMs: 400 });
    const informer = createInformer<Obj>(
      operatorKube,
      { ...configMaps, namespace: denied },
      { log, metrics, backoff, resyncPeriodMs: 0 },
    );
    const seen = record(informer);
    informer.start();
    await until("several refused lists", () => metrics.restarts.length >= 4);
    expect(new Set(metrics.restarts)).toEqual(new Set(["error"]));
    expect(informer.hasSynced()).toBe(false);
    await grantOperatorNamespace(admin, denied);
    expect(await informer.waitForSync()).toBe(true);
    await admin
      .makeApiClient(CoreV1Api)
      .createNamespacedConfigMap({ namespace: denied, body: { metadata: { name: "now-visible" } } });
    await until("add now-visible", () => seen.includes("add now-visible"));
    await informer.stop();
  });

  it("answers waitForSync with false when stopped before it ever synced", async () => {
    const informer = createInformer<Obj>(
      operatorKube,
      { group: "", version: "v1", plural: "secrets" },
      { log, resyncPeriodMs: 0 },
    );
    informer.start();
    const synced = informer.waitForSync();
    await pause(300);
    await informer.stop();
    expect(await synced).toBe(false);
    expect(informer.list()).toEqual([]);
  });
});

describe("an informer on a custom kind in a watched namespace, as the operator", () => {
  const devices: ResourceRef = { group: GROUP, version: VERSION, plural: "emaildevices" };
  const custom = admin.makeApiClient(CustomObjectsApi);
  const device = (name: string, userName = "A") => ({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: "EmailDevice",
    metadata: { name },
    spec: {
      stageRef: { name: "email-setup" },
      user: { id: name, name: userName },
      email: `${name}@example.com`,
      confirmed: true,
    },
  });
  const create = (name: string) =>
    custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: "emaildevices",
      body: device(name),
    });
  const remove = (name: string) =>
    custom.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: "emaildevices",
      name,
    });
  const rename = async (name: string, userName: string) => {
    const current = (await custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: "emaildevices",
      name,
    })) as Obj;
    await custom.replaceNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: "emaildevices",
      name,
      body: { ...current, spec: { ...current.spec, user: { id: name, name: userName } } },
    });
  };
  const names = (informer: Informer<Obj>) =>
    informer
      .list(ns)
      .map((o) => o.metadata?.name)
      .sort();

  it("syncs and follows EmailDevices with the least-privilege identity", async () => {
    await create("dev-pre");
    const informer = createInformer<Obj>(operatorKube, { ...devices, namespace: ns }, { log, resyncPeriodMs: 0 });
    const seen = record(informer);
    informer.start();
    expect(await informer.waitForSync()).toBe(true);
    expect(names(informer)).toEqual(["dev-pre"]);
    expect(informer.get(ns, "dev-pre")).toMatchObject({ kind: "EmailDevice", apiVersion: `${GROUP}/${VERSION}` });
    await create("dev-live");
    await until("add dev-live", () => seen.includes("add dev-live"));
    await remove("dev-pre");
    await until("delete dev-pre", () => seen.includes("delete dev-pre"));
    await informer.stop();
    await remove("dev-live");
  });

  it("relists after 410 Expired and reports what it missed as add, update and delete", async () => {
    const scoped: ResourceRef = { ...devices, namespace: ns };
    await Promise.all(["keep", "change", "gone"].map(create));
    const real = createListWatch<Obj>(operatorKube, scoped);
    let openGate = (): void => {};
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const watchedFrom: string[] = [];
    let first = true;
    // The real list-watch against the real server, except that the first watch waits and then
    // asks for resourceVersion 1, which the server's watch cache no longer holds.
    const expiring: ListWatch<Obj> = {
      list: (signal) => real.list(signal),
      watch: async (request, onEvent) => {
        if (first) {
          first = false;
          await gate;
          watchedFrom.push("1");
          return real.watch({ ...request, resourceVersion: "1" }, onEvent);
        }
        watchedFrom.push(request.resourceVersion);
        return real.watch(request, onEvent);
      },
    };
    const metrics = metricsRecorder();
    const informer = new Informer<Obj>({ name: "expiring", listWatch: expiring, log, metrics, resyncPeriodMs: 0 });
    const seen = record(informer);
    const userNames: string[] = [];
    informer.onUpdate((_old, o) => userNames.push(String((o.spec?.user as { name?: string } | undefined)?.name)));
    informer.start();
    expect(await informer.waitForSync()).toBe(true);
    expect(seen.sort()).toEqual(["add change", "add gone", "add keep"]);
    seen.length = 0;
    // Changes the informer cannot see: its watch has not started yet.
    await rename("change", "Changed");
    await remove("gone");
    await create("new");
    openGate();
    await until("the relist's changes", () => seen.length >= 3);
    expect(seen).toEqual(["delete gone", "update change", "add new"]);
    expect(userNames).toEqual(["Changed"]);
    expect(metrics.restarts).toContain("expired");
    expect(names(informer)).toEqual(["change", "keep", "new"]);
    // Watching resumes from the relist's resourceVersion, and live events flow again.
    await until("a second watch", () => watchedFrom.length >= 2);
    expect(watchedFrom[1]).not.toBe("1");
    await create("later");
    await until("add later", () => seen.includes("add later"));
    await informer.stop();
  });
});

describe("idle watchdog and resync, on a fake clock against the real server", () => {
  it("restarts a watch that stays silent past the idle limit, and keeps delivering events", async () => {
    const clock = new FakeClock();
    const metrics = metricsRecorder();
    const app = { app: "informer-idle" };
    const informer = createInformer<Obj>(
      adminKube,
      { ...configMaps, namespace: ns },
      { log, clock, metrics, labelSelector: "app=informer-idle", idleLimitMs: 60_000, resyncPeriodMs: 0 },
    );
    const seen = record(informer);
    informer.start();
    await informer.waitForSync();
    await pause(50); // the loop moves from LIST to WATCH, which arms the watchdog
    clock.advance(59_999);
    await pause(200);
    expect(metrics.restarts).toEqual([]);
    clock.advance(1);
    await until("an idle restart", () => metrics.restarts.includes("idle"));
    await core.createNamespacedConfigMap({ namespace: ns, body: cm("after-idle", app, "1") });
    await until("add after-idle", () => seen.includes("add after-idle"));
    expect(metrics.restarts).toEqual(["idle"]);
    await informer.stop();
  });

  it("hands every cached key to the resync handlers each period", async () => {
    const clock = new FakeClock();
    const app = { app: "informer-resync" };
    await core.createNamespacedConfigMap({ namespace: ns, body: cm("r1", app, "1") });
    await core.createNamespacedConfigMap({ namespace: ns, body: cm("r2", app, "1") });
    const informer = createInformer<Obj>(
      adminKube,
      { ...configMaps, namespace: ns },
      { log, clock, labelSelector: "app=informer-resync", resyncPeriodMs: 600_000 },
    );
    const resynced: string[] = [];
    informer.onResync((key) => resynced.push(key));
    informer.start();
    await informer.waitForSync();
    clock.advance(599_999);
    expect(resynced).toEqual([]);
    clock.advance(1);
    expect(resynced.sort()).toEqual([`${ns}/r1`, `${ns}/r2`]);
    clock.advance(600_000);
    expect(resynced).toHaveLength(4);
    await informer.stop();
    clock.advance(600_000);
    expect(resynced).toHaveLength(4);
  });
});
