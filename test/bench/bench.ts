// The benchmark: starts the stack, runs the phases (flows, memory, scale) and turns what they
// measured into figures with targets (issue 9). Every speed figure is a ratio against a floor
// measured in the same run on the same control plane and Mailpit.
import { DEVICE_COUNT_INTERVAL_MS } from "../../src/controllers/stage/policy.ts";
import { CustomObjectsApi } from "@kubernetes/client-node";
import type { RequestSummary } from "./apiserver-metrics.ts";
import { chartMemory } from "./chart-memory.ts";
import type { Figure } from "./figures.ts";
import { type RunResult, flowPhase } from "./flow-phase.ts";
import { type MemoryResult, memoryPhase, STEADY_STATE_MS } from "./memory-phase.ts";
import type { BenchOptions, Phase } from "./options.ts";
import { loadAverage } from "./proc.ts";
import { Scale } from "./scale.ts";
import { type Stack, startStack } from "./stack.ts";

export interface BenchReport {
  figures: Figure[];
  /** The measurements behind the figures, for the reader. */
  details: string[];
}

export const TARGETS = {
  flowRatio: 0.8,
  setup: { requests: 12, writes: 8 },
  authenticate: { requests: 9, writes: 6 },
  applyRatio: 1.5,
  reconcileRatio: 1.3,
  operatorCpuMs: 30,
  wholeFlowCpuMs: 70,
  rssMiB: 128,
  heapGrowth: 1.1,
} as const;

const MiB = 2 ** 20;

export async function runBench(o: BenchOptions, log: (m: string) => void): Promise<BenchReport> {
  const memory = chartMemory();
  const heapMiB = o.heapMiB ?? memory.heapMiB;
  const heapSource = o.heapMiB ? "set by --heap-mib" : memory.source;
  log(
    `load average ${loadAverage()}; chart memory limit ${memory.limitMiB} MiB, heap limit ${heapMiB} MiB (${heapSource})` +
      (memory.otherNodeOptions.length
        ? `, other Node.js options from the chart: ${memory.otherNodeOptions.join(" ")}`
        : "") +
      (Object.keys(memory.env).length
        ? `, environment from the chart: ${Object.entries(memory.env)
            .map(([k, v]) => `${k}=${v}`)
            .join(" ")}`
        : ""),
  );
  const stack = await startStack({
    heapMiB,
    nodeOptions: [...memory.otherNodeOptions, ...(o.nodeOptions ? [o.nodeOptions] : [])],
    env: memory.env,
    log,
    ...(o.cpuProfileDir ? { cpuProfileDir: o.cpuProfileDir } : {}),
  });
  const ran = (phase: Phase) => o.phases.includes(phase);
  try {
    let runs: RunResult[] = [];
    if (ran("flows")) {
      log("phase flows: full flows against their floor");
      runs = await flowPhase(stack, {
        concurrency: o.concurrency,
        flows: o.flows,
        flowsPerConcurrency: o.flowsPerConcurrency,
        // A flow's cost includes the stage's device count, which the reconciler writes in batches
        // up to DEVICE_COUNT_INTERVAL_MS later: a run is over when that has passed quietly.
        quietMs: DEVICE_COUNT_INTERVAL_MS + (o.size === "small" ? 1000 : 1500),
        log,
      });
    }
    let mem: MemoryResult | undefined;
    if (ran("memory")) {
      log("phase memory: devices and a soak of flows");
      // The full run measures from a steady state; the small one (in npm test) has no time for it.
      mem = await memoryPhase(stack, { ...o, warmUpMs: o.size === "full" ? STEADY_STATE_MS : 0, log });
    }
    let scale: ScaleResult | undefined;
    if (ran("scale")) {
      log("phase scale: stages and bindings");
      scale = await scalePhase(stack, o, log);
    }
    return report(o, runs, mem, scale, { limitMiB: memory.limitMiB, heapMiB, heapSource });
  } finally {
    log("stopping the stack");
    await stack.stop();
  }
}

async function scalePhase(stack: Stack, o: BenchOptions, log: (m: string) => void): Promise<ScaleResult> {
  const scale = new Scale({
    kc: stack.admin,
    custom: stack.admin.makeApiClient(CustomObjectsApi),
    namespace: stack.namespaces.scale,
    floorNamespace: stack.namespaces.floor,
    log,
  });
  const loadBefore = loadAverage();
  const single = await scale.singleStage(o.reconcileRounds);
  log(`single stage: ${single.operatorMs.toFixed(1)} ms to Ready vs floor ${single.floorMs.toFixed(1)} ms`);
  const apply = await scale.applyAll(o.stages, o.applyConcurrency);
  log(
    `${o.stages} stages: ${(apply.operatorMs / 1000).toFixed(1)} s to Ready vs floor ${(apply.floorMs / 1000).toFixed(1)} s`,
  );
  return { single, apply, load: `load ${loadBefore} → ${loadAverage()}` };
}

interface ScaleResult {
  single: { operatorMs: number; floorMs: number };
  apply: { operatorMs: number; floorMs: number };
  load: string;
}

function report(
  o: BenchOptions,
  runs: RunResult[],
  mem: MemoryResult | undefined,
  scale: ScaleResult | undefined,
  heap: { limitMiB: number; heapMiB: number; heapSource: string },
): BenchReport {
  const figures: Figure[] = [];
  const details: string[] = [];
  if (runs.length > 0) flowFigures(runs, figures, details);

  const failed = runs.reduce((n, r) => n + r.failed + r.floorFailed, 0) + (mem?.failed ?? 0);
  const firstError = runs.find((r) => r.firstError)?.firstError ?? mem?.firstError;
  figures.push({
    name: "flows that did not complete",
    value: failed,
    unit: "",
    kind: "count",
    target: { op: "<=", limit: 0 },
    ...(firstError ? { detail: `first: ${firstError}` } : {}),
  });

  if (scale)
    figures.push(
      {
        name: `${o.stages} stages + ${2 * o.stages} bindings until Ready`,
        value: scale.apply.operatorMs / scale.apply.floorMs,
        unit: "x",
        kind: "ratio",
        target: { op: "<=", limit: TARGETS.applyRatio },
        detail: `${(scale.apply.operatorMs / 1000).toFixed(1)} s vs floor ${(scale.apply.floorMs / 1000).toFixed(1)} s, ${scale.load}`,
      },
      {
        name: "single-stage reconcile",
        value: scale.single.operatorMs / scale.single.floorMs,
        unit: "x",
        kind: "ratio",
        target: { op: "<=", limit: TARGETS.reconcileRatio },
        detail: `median ${scale.single.operatorMs.toFixed(1)} ms vs floor ${scale.single.floorMs.toFixed(1)} ms, ${o.reconcileRounds} rounds`,
      },
    );
  if (mem) {
    figures.push(
      {
        name: `operator RSS (${mem.liveExecutions} live executions, ${mem.devices} devices)`,
        value: mem.rssMax / MiB,
        unit: "MiB",
        kind: "memory",
        target: { op: "<=", limit: TARGETS.rssMiB },
        detail: `heap limit ${heap.heapMiB} MiB of a ${heap.limitMiB} MiB container limit, ${heap.heapSource}`,
      },
      {
        name: `heap after GC over a soak of ${mem.soakFlows} flows`,
        value: mem.heapEnd / mem.heapStart,
        unit: "x",
        kind: "memory",
        target: { op: "<=", limit: TARGETS.heapGrowth },
        detail: `${(mem.heapStart / MiB).toFixed(1)} → ${(mem.heapEnd / MiB).toFixed(1)} MiB; ${mem.perSecond.toFixed(1)} flows/s at concurrency ${o.soakConcurrency}, operator CPU ${ms(mem.operatorCpuPerFlow)} per flow, load ${mem.load}`,
      },
    );
    details.push(
      `Memory: ${(mem.heapPerDevice / 1024).toFixed(1)} KiB of heap per cached EmailDevice (${mem.devices} devices); ` +
        `${mem.liveExecutions} live executions at the end of the soak`,
    );
  }
  return { figures, details };
}

/** Flows per second against the floor, requests per flow, CPU per flow. */
function flowFigures(runs: RunResult[], figures: Figure[], details: string[]): void {
  for (const r of runs)
    figures.push({
      name: `${r.kind} flows/s at concurrency ${r.concurrency}`,
      value: r.perSecond / r.floorPerSecond,
      unit: "x",
      kind: "ratio",
      target: { op: ">=", limit: TARGETS.flowRatio },
      detail: `${r.perSecond.toFixed(1)}/s vs floor ${r.floorPerSecond.toFixed(1)}/s, ${r.flows} flows in ${r.rounds} round(s), load ${r.load}`,
    });

  // Counts from the run at concurrency 8 (or the nearest level run); 404/409 from every run (each
  // counted in its first round).
  const at = (kind: RunResult["kind"]) => {
    const mine = runs.filter((r) => r.kind === kind);
    return mine.reduce((best, r) => (Math.abs(r.concurrency - 8) < Math.abs(best.concurrency - 8) ? r : best));
  };
  for (const kind of ["Setup", "Authenticate"] as const) {
    const r = at(kind);
    const t = kind === "Setup" ? TARGETS.setup : TARGETS.authenticate;
    const where = `concurrency ${r.concurrency}, ${r.countedFlows} flows counted`;
    figures.push(
      {
        name: `API requests per ${kind} flow`,
        value: r.requests.requests,
        unit: "",
        kind: "count",
        target: { op: "<=", limit: t.requests },
        detail: where,
      },
      {
        name: `API writes per ${kind} flow`,
        value: r.requests.writes,
        unit: "",
        kind: "count",
        target: { op: "<=", limit: t.writes },
        detail: where,
      },
    );
  }
  const flows = runs.reduce((n, r) => n + r.countedFlows, 0);
  const errors = runs.reduce(
    (n, r) => n + Math.round((r.requests.notFound + r.requests.conflicts) * r.countedFlows),
    0,
  );
  const notFound = runs.reduce((n, r) => n + Math.round(r.requests.notFound * r.countedFlows), 0);
  figures.push({
    name: "404 and 409 answers per completed flow",
    value: errors / flows,
    unit: "",
    kind: "count",
    target: { op: "<=", limit: 0 },
    detail: `${notFound} × 404, ${errors - notFound} × 409 in ${flows} flows`,
  });

  for (const kind of ["Authenticate", "Setup"] as const) {
    const r = at(kind);
    const whole = r.cpu.operator + r.cpu.apiserver + r.cpu.etcd;
    const where = `concurrency ${r.concurrency}, load ${r.load}`;
    if (kind === "Authenticate")
      figures.push(
        {
          name: "operator CPU per Authenticate flow",
          value: r.cpu.operator * 1000,
          unit: "ms",
          kind: "cpu",
          target: { op: "<=", limit: TARGETS.operatorCpuMs },
          detail: where,
        },
        {
          name: "whole-flow CPU per Authenticate flow",
          value: whole * 1000,
          unit: "ms",
          kind: "cpu",
          target: { op: "<=", limit: TARGETS.wholeFlowCpuMs },
          detail: `operator ${ms(r.cpu.operator)} + API server ${ms(r.cpu.apiserver)} + etcd ${ms(r.cpu.etcd)}`,
        },
      );
    else
      details.push(
        `Setup CPU per flow (${where}): operator ${ms(r.cpu.operator)}, API server ${ms(r.cpu.apiserver)}, etcd ${ms(r.cpu.etcd)} (no target)`,
      );
  }

  for (const kind of ["Setup", "Authenticate"] as const) {
    const r = at(kind);
    details.push(`${kind} flow, API requests per flow at concurrency ${r.concurrency} (verb resource code):`);
    details.push(...breakdown(r.requests));
    details.push(
      `  floor: ${r.floorRequests.requests.toFixed(2)} requests, ${r.floorRequests.writes.toFixed(2)} writes per flow`,
    );
  }
}

const ms = (seconds: number) => `${(seconds * 1000).toFixed(1)} ms`;

const breakdown = (s: RequestSummary): string[] =>
  s.breakdown.map(([key, n]) => `  ${n.toFixed(2).padStart(6)}  ${key}`);
