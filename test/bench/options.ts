// Benchmark parameters from flags (--soak-flows=2000) or the environment (BENCH_SOAK_FLOWS=2000);
// a flag wins. --size=small is the run `npm test` makes: every phase, few objects, counts enforced.
import type { FigureKind } from "./figures.ts";

export interface BenchOptions {
  size: "full" | "small";
  /** Concurrency levels of the flow phase. */
  concurrency: number[];
  /**
   * Flows per kind and level, at least `flowsPerConcurrency` × the concurrency. 300 give each side
   * about 8 s of flows at every level here; with 60 (80 at concurrency 8, under a second per
   * round) Authenticate's ratio there was 0.97x in one run and 0.79x in the next, its code the same.
   */
  flows: number;
  /**
   * Flows per kind and level per flow in flight, at least. Each side's rounds must last several
   * flows per slot: a round of two per slot at concurrency 32 lasts about two seconds, and one
   * disturbance on the shared cores moved such a ratio by a third (0.54x to 1.02x between runs).
   */
  flowsPerConcurrency: number;
  /** Stages applied at once (each with two bindings). */
  stages: number;
  /** Clients in flight while applying them. */
  applyConcurrency: number;
  /** Single-stage reconciles (medians). */
  reconcileRounds: number;
  devices: number;
  soakFlows: number;
  soakConcurrency: number;
  /** Operator heap limit in MiB; default: what the chart sets (or proposes) for its memory limit. */
  heapMiB?: number;
  /** Figure kinds whose miss fails the run. */
  enforce: FigureKind[];
  /** Which phases run (default all). */
  phases: Phase[];
  /** A directory for the operator's V8 CPU profile (`--cpu-prof`), written when it stops. */
  cpuProfileDir?: string;
  /** Node.js options for the operator after the chart's (the later wins): to try one before the chart takes it. */
  nodeOptions?: string;
}

export const PHASES = ["flows", "memory", "scale"] as const;
export type Phase = (typeof PHASES)[number];

const PRESETS: Record<
  BenchOptions["size"],
  Omit<BenchOptions, "size" | "heapMiB" | "phases" | "cpuProfileDir" | "nodeOptions">
> = {
  full: {
    concurrency: [1, 8, 32],
    flows: 300,
    flowsPerConcurrency: 10,
    stages: 1000,
    applyConcurrency: 16,
    reconcileRounds: 20,
    devices: 1000,
    soakFlows: 10_000,
    soakConcurrency: 8,
    enforce: ["count", "ratio", "cpu", "memory"],
  },
  small: {
    concurrency: [4],
    flows: 8,
    flowsPerConcurrency: 4,
    stages: 10,
    applyConcurrency: 8,
    reconcileRounds: 2,
    devices: 10,
    soakFlows: 20,
    soakConcurrency: 8,
    enforce: ["count"],
  },
};

const KEYS = {
  size: "size",
  concurrency: "concurrency",
  flows: "flows",
  flowsPerConcurrency: "flows-per-concurrency",
  stages: "stages",
  applyConcurrency: "apply-concurrency",
  reconcileRounds: "reconcile-rounds",
  devices: "devices",
  soakFlows: "soak-flows",
  soakConcurrency: "soak-concurrency",
  heapMiB: "heap-mib",
  enforce: "enforce",
  phases: "phases",
  cpuProfileDir: "cpu-profile-dir",
  nodeOptions: "node-options",
} as const satisfies Record<keyof BenchOptions, string>;

const envName = (flag: string) => `BENCH_${flag.toUpperCase().replaceAll("-", "_")}`;

export function usage(): string {
  return Object.values(KEYS)
    .map((flag) => `  --${flag}=…  (or ${envName(flag)})`)
    .join("\n");
}

export function parseOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): BenchOptions {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const m = /^--([a-z-]+)=(.*)$/.exec(arg);
    if (!m?.[1] || m[2] === undefined) throw new Error(`unexpected argument ${arg}; options:\n${usage()}`);
    if (!(Object.values(KEYS) as string[]).includes(m[1]))
      throw new Error(`unknown option --${m[1]}; options:\n${usage()}`);
    flags.set(m[1], m[2]);
  }
  const raw = (key: keyof BenchOptions): string | undefined =>
    flags.get(KEYS[key]) ?? (env[envName(KEYS[key])] || undefined);
  const size = raw("size") ?? "full";
  if (size !== "full" && size !== "small") throw new Error(`--size must be full or small, not ${size}`);
  const preset = PRESETS[size];
  const int = (key: keyof BenchOptions, fallback: number): number => {
    const v = raw(key);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${KEYS[key]} must be a positive integer, not ${v}`);
    return n;
  };
  const list = <T>(key: keyof BenchOptions, fallback: T[], item: (s: string) => T): T[] => {
    const v = raw(key);
    return v === undefined ? fallback : v.split(",").map((s) => item(s.trim()));
  };
  const heap = raw("heapMiB");
  const cpuProfileDir = raw("cpuProfileDir");
  const nodeOptions = raw("nodeOptions");
  return {
    size,
    concurrency: list("concurrency", preset.concurrency, (s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--concurrency takes positive integers, not ${s}`);
      return n;
    }),
    flows: int("flows", preset.flows),
    flowsPerConcurrency: int("flowsPerConcurrency", preset.flowsPerConcurrency),
    stages: int("stages", preset.stages),
    applyConcurrency: int("applyConcurrency", preset.applyConcurrency),
    reconcileRounds: int("reconcileRounds", preset.reconcileRounds),
    devices: int("devices", preset.devices),
    soakFlows: int("soakFlows", preset.soakFlows),
    soakConcurrency: int("soakConcurrency", preset.soakConcurrency),
    ...(heap !== undefined ? { heapMiB: int("heapMiB", 0) } : {}),
    ...(cpuProfileDir !== undefined ? { cpuProfileDir } : {}),
    ...(nodeOptions !== undefined ? { nodeOptions } : {}),
    phases: list("phases", [...PHASES], (s) => {
      if (!(PHASES as readonly string[]).includes(s)) throw new Error(`--phases takes ${PHASES.join(",")}, not ${s}`);
      return s as Phase;
    }),
    enforce: list("enforce", preset.enforce, (s) => {
      if (!["count", "ratio", "cpu", "memory"].includes(s))
        throw new Error(`--enforce takes count,ratio,cpu,memory, not ${s}`);
      return s as FigureKind;
    }),
  };
}
