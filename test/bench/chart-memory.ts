// The operator's memory limit and Node heap limit as the Helm chart sets them. The heap limit is
// read from a --max-old-space-size(-percentage) in the chart's values or Deployment template;
// without one, the benchmark runs with the limit proposed here and says so.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { repoRoot } from "../harness/paths.ts";

/** Proposed for the chart: the heap ceiling as a share of the container's memory limit. */
export const PROPOSED_HEAP_PERCENT = 50;

const chartDir = join(repoRoot, "charts", "email-authenticator-operator");

export interface ChartMemory {
  limitMiB: number;
  heapMiB: number;
  /** Where the heap limit came from. */
  source: string;
  /** The chart's other Node.js options (its NODE_OPTIONS without the heap ceiling), passed on as they are. */
  otherNodeOptions: string[];
  /** The chart's other literal environment variables (MALLOC_ARENA_MAX, …), passed on as they are. */
  env: Record<string, string>;
}

/** `- name: X` / `value: Y` pairs of a Deployment template, NODE_OPTIONS excepted. */
export function literalEnv(template: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of template.matchAll(/- name: ([A-Z_][A-Z0-9_]*)\s+value:\s*"?([^"\n]*)"?/g))
    if (m[1] && m[1] !== "NODE_OPTIONS") env[m[1]] = m[2] ?? "";
  return env;
}

export function parseQuantityMiB(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?$/.exec(q.trim());
  if (!m?.[1]) throw new Error(`cannot read the memory quantity ${q}`);
  const factor: Record<string, number> = {
    Ki: 1 / 1024,
    Mi: 1,
    Gi: 1024,
    K: 1e3 / 2 ** 20,
    M: 1e6 / 2 ** 20,
    G: 1e9 / 2 ** 20,
  };
  return m[2] ? Number(m[1]) * (factor[m[2]] ?? NaN) : Number(m[1]) / 2 ** 20;
}

/** Heap MiB from a flag in `text`, given the memory limit; undefined when no flag is set. */
export function heapFromFlags(text: string, limitMiB: number): number | undefined {
  const pct = /--max-old-space-size-percentage=(\d+(?:\.\d+)?)%?/.exec(text);
  if (pct?.[1]) return Math.floor((limitMiB * Number(pct[1])) / 100);
  const abs = /--max-old-space-size=(\d+)/.exec(text);
  return abs?.[1] ? Number(abs[1]) : undefined;
}

export function chartMemory(): ChartMemory {
  const valuesText = readFileSync(join(chartDir, "values.yaml"), "utf8");
  const values = load(valuesText) as { resources?: { limits?: { memory?: string } } };
  const limit = values.resources?.limits?.memory;
  if (!limit) throw new Error("the chart's values set no resources.limits.memory");
  const limitMiB = parseQuantityMiB(limit);
  const template = readFileSync(join(chartDir, "templates", "deployment.yaml"), "utf8");
  const set = heapFromFlags(`${valuesText}\n${template}`, limitMiB);
  const otherNodeOptions = (/name: NODE_OPTIONS\s+value:\s*"?([^"\n]*)/.exec(template)?.[1] ?? "")
    .split(/\s+/)
    .filter((o) => o && !o.startsWith("--max-old-space-size"));
  const env = literalEnv(template);
  if (set !== undefined) return { limitMiB, heapMiB: set, source: "set by the chart", otherNodeOptions, env };
  return {
    otherNodeOptions,
    env,
    limitMiB,
    heapMiB: Math.floor((limitMiB * PROPOSED_HEAP_PERCENT) / 100),
    source: `not set by the chart; proposed --max-old-space-size-percentage=${PROPOSED_HEAP_PERCENT}`,
  };
}
