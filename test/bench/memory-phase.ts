// Memory with many users: devices in the cache, then a soak of Authenticate flows whose
// executions stay live (they expire long after the run). The operator's RSS is read from /proc
// while it works, its heap after a full GC over the inspector at the start and end of the soak.
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import { FlowClient } from "./flow-client.ts";
import { Inspector } from "./inspector.ts";
import { MailReader } from "./mail-reader.ts";
import { Failures, runPool } from "./pool.ts";
import { cpuSeconds, loadAverage, rssBytes } from "./proc.ts";
import { ReadyWatch } from "./ready-watch.ts";
import { OPERATOR_NAMESPACE } from "../harness/controlplane.ts";
import { KNOWN_ID_TTL_MS } from "../../src/http/rate-limits.ts";
import type { Stack } from "./stack.ts";

export interface MemoryResult {
  devices: number;
  soakFlows: number;
  failed: number;
  firstError?: string;
  liveExecutions: number;
  /** Heap after GC per cached device (measured before the soak). */
  heapPerDevice: number;
  /** Heap after GC once warmed up, and at the end. */
  heapStart: number;
  heapEnd: number;
  /** Largest RSS seen while working (read before each forced GC). */
  rssMax: number;
  operatorCpuPerFlow: number;
  perSecond: number;
  load: string;
}

const MiB = 2 ** 20;

interface SoakOptions {
  devices: number;
  soakFlows: number;
  soakConcurrency: number;
  /** The warm-up lasts at least this long: the longest-lived bounded cache has turned over once. */
  warmUpMs: number;
  log: (m: string) => void;
}

/**
 * The heap holds what a replica remembers for a while (execution ids seen to exist, for five
 * minutes): until that has turned over once, its filling would read as growth.
 */
export const STEADY_STATE_MS = KNOWN_ID_TTL_MS + 30_000;

export async function memoryPhase(s: Stack, o: SoakOptions): Promise<MemoryResult> {
  const inspector = await Inspector.connect(s.inspectorPort);
  try {
    return await soak(s, o, inspector);
  } finally {
    inspector.close();
  }
}

async function soak(s: Stack, o: SoakOptions, inspector: Inspector): Promise<MemoryResult> {
  const ns = s.namespaces.flows;
  const pid = s.operator.process.pid;
  const custom = s.admin.makeApiClient(CustomObjectsApi);
  const heapBeforeDevices = await inspector.heapAfterGc();
  const devicesReady = await ReadyWatch.start(s.admin, ns, ["emaildevices"], "mem-");
  try {
    await runPool(
      o.devices,
      16,
      async (i) => {
        await custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: ns,
          plural: "emaildevices",
          body: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: "EmailDevice",
            metadata: { name: `mem-${i}` },
            spec: {
              stageRef: { name: "mem" },
              user: { id: `mem-${i}` },
              email: `mem-${i}@bench.example`,
              confirmed: true,
            },
          },
        });
      },
      (done) => o.log(`devices: ${done}/${o.devices} created`),
    );
    await devicesReady.until((w) => w.count >= o.devices, `${o.devices} devices Ready`, 300_000);
  } finally {
    devicesReady.stop();
  }

  const mail = new MailReader(s.mailpit.httpUrl);
  const client = new FlowClient({ baseUrl: `http://127.0.0.1:${s.operator.httpPort}`, appToken: s.appToken, mail });
  // What the cached devices cost, before any soak flow runs.
  const heapWithDevices = await inspector.heapAfterGc();
  o.log(
    `devices: heap after GC ${(heapBeforeDevices / MiB).toFixed(1)} → ${(heapWithDevices / MiB).toFixed(1)} MiB with ${o.devices} devices`,
  );
  let next = 0;
  const failures = new Failures();
  const flows = async (n: number, label?: string) =>
    runPool(
      n,
      o.soakConcurrency,
      failures.wrap(async () => {
        const i = next++ % o.devices;
        await client.run(ns, "mem-login", { id: `mem-${i}`, email: `mem-${i}@bench.example` });
      }),
      label ? (done) => o.log(`${label}: ${done}/${n}`) : undefined,
    );
  let rssMax = 0;
  const checkpoint = async () => {
    rssMax = Math.max(rssMax, rssBytes(pid));
    return inspector.heapAfterGc();
  };
  try {
    const warmUp = Math.min(Math.max(20, Math.floor(o.soakFlows / 10)), Math.floor(o.soakFlows / 2));
    const warmUpStarted = performance.now();
    await flows(warmUp, "soak: warm-up flows");
    let warmUpFlows = warmUp;
    let reported = performance.now();
    while (performance.now() - warmUpStarted < o.warmUpMs) {
      await flows(Math.max(o.soakConcurrency, Math.floor(warmUp / 10)));
      warmUpFlows = next;
      if (performance.now() - reported >= 30_000) {
        reported = performance.now();
        const elapsed = Math.round((reported - warmUpStarted) / 1000);
        o.log(
          `soak: warming up to a steady state, ${warmUpFlows} flows in ${elapsed}/${Math.round(o.warmUpMs / 1000)} s`,
        );
      }
    }
    const heapStart = await checkpoint();
    o.log(
      `soak: warmed up with ${warmUpFlows} flows in ${Math.round((performance.now() - warmUpStarted) / 1000)} s; ` +
        `heap after GC ${(heapStart / MiB).toFixed(1)} MiB, RSS ${(rssBytes(pid) / MiB).toFixed(1)} MiB`,
    );
    const rest = o.soakFlows - warmUp;
    const chunks = Math.min(10, Math.max(1, rest));
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    let heapEnd = heapStart;
    for (let k = 0; k < chunks; k++) {
      await flows(Math.floor(rest / chunks) + (k < rest % chunks ? 1 : 0));
      heapEnd = await checkpoint();
      o.log(
        `soak: ${warmUp + Math.round(((k + 1) * rest) / chunks)}/${o.soakFlows} flows after the warm-up's ${warmUpFlows - warmUp} extra; heap after GC ${(heapEnd / MiB).toFixed(1)} MiB, ` +
          `RSS max ${(rssMax / MiB).toFixed(1)} MiB, load ${loadAverage()}`,
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    const operatorCpuPerFlow = rest > 0 ? (cpuSeconds(pid) - cpu0) / rest : NaN;
    if (failures.first) o.log(`soak: ${failures.count} flows failed, first: ${failures.first}`);
    return {
      devices: o.devices,
      heapPerDevice: (heapWithDevices - heapBeforeDevices) / o.devices,
      soakFlows: o.soakFlows,
      failed: failures.count,
      ...(failures.first ? { firstError: failures.first } : {}),
      liveExecutions: await countExecutions(s, ns),
      heapStart,
      heapEnd,
      rssMax,
      operatorCpuPerFlow,
      perSecond: rest / seconds,
      load: loadAverage(),
    };
  } finally {
    client.close();
  }
}

/** Execution Secrets of `namespace`'s stages present now (none has expired: they outlive the run). */
async function countExecutions(s: Stack, namespace: string): Promise<number> {
  const core = s.admin.makeApiClient(CoreV1Api);
  let count = 0;
  let token: string | undefined;
  do {
    // Kept in the operator's namespace, labelled with their stage's.
    const page = await core.listNamespacedSecret({
      namespace: OPERATOR_NAMESPACE,
      labelSelector: `emailauth.dev/component=execution,emailauth.dev/stage-namespace=${namespace}`,
      limit: 1000,
      ...(token ? { _continue: token } : {}),
    });
    count += page.items.length;
    token = page.metadata?._continue || undefined;
  } while (token);
  return count;
}
