// The benchmark's pure parts: reading the API server's request counters, /proc, the chart's
// memory settings, options, and judging figures against targets.
import { describe, expect, it } from "vitest";
import { difference, parseRequestTotals, summarize } from "../bench/apiserver-metrics.ts";
import { chartMemory, heapFromFlags, literalEnv, parseQuantityMiB } from "../bench/chart-memory.ts";
import { failures, type Figure, formatFigure, passes } from "../bench/figures.ts";
import { parseOptions } from "../bench/options.ts";
import { parseCpuTicks, parseRss } from "../bench/proc.ts";

const line = (verb: string, resource: string, code: string, n: number, subresource = "") =>
  `apiserver_request_total{code="${code}",component="apiserver",dry_run="",group="",resource="${resource}",scope="resource",subresource="${subresource}",verb="${verb}",version="v1"} ${n}`;

describe("API server request counters", () => {
  it("counts by verb, resource and code, without leases, watches and non-resource paths", () => {
    const text = [
      "# HELP apiserver_request_total Counter of apiserver requests",
      line("GET", "secrets", "200", 3),
      line("GET", "secrets", "404", 1),
      line("PATCH", "emaildevices", "409", 2, "status"),
      line("PUT", "leases", "200", 50),
      line("WATCH", "secrets", "200", 4),
      line("GET", "", "200", 9),
      'apiserver_request_total_other{verb="GET"} 1',
    ].join("\n");
    expect([...parseRequestTotals(text)]).toEqual([
      ["GET secrets 200", 3],
      ["GET secrets 404", 1],
      ["PATCH emaildevices/status 409", 2],
    ]);
  });

  it("summarizes a delta: writes exclude reviews, 404 and 409 are counted", () => {
    const before = parseRequestTotals([line("GET", "secrets", "200", 3), line("POST", "secrets", "201", 1)].join("\n"));
    const after = parseRequestTotals(
      [
        line("GET", "secrets", "200", 5),
        line("POST", "secrets", "201", 3),
        line("DELETE", "secrets", "404", 1),
        line("POST", "tokenreviews", "201", 1),
        line("PATCH", "emailauthenticatorstages", "409", 1, "status"),
      ].join("\n"),
    );
    const s = summarize(difference(after, before));
    expect(s).toMatchObject({ requests: 7, writes: 4, notFound: 1, conflicts: 1 });
    expect(s.breakdown[0]).toEqual(["GET secrets 200", 2]);
  });
});

describe("/proc", () => {
  it("reads utime + stime even when the command name has spaces and parentheses", () => {
    const stat = "1234 (node (x) y) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 11 0 100 0 0";
    expect(parseCpuTicks(stat)).toBe(325);
  });

  it("reads VmRSS in bytes", () => {
    expect(parseRss("Name:\tnode\nVmRSS:\t  131072 kB\nVmSwap:\t0 kB\n")).toBe(128 * 2 ** 20);
    expect(() => parseRss("Name:\tnode\n")).toThrow(/VmRSS/);
  });
});

describe("the chart's memory settings", () => {
  it("reads quantities in MiB", () => {
    expect(parseQuantityMiB("256Mi")).toBe(256);
    expect(parseQuantityMiB("1Gi")).toBe(1024);
    expect(parseQuantityMiB("512Ki")).toBe(0.5);
    expect(() => parseQuantityMiB("lots")).toThrow(/lots/);
  });

  it("derives the heap limit from a percentage or takes an absolute one", () => {
    expect(heapFromFlags("NODE_OPTIONS: --max-old-space-size-percentage=40", 256)).toBe(102);
    expect(heapFromFlags("value: --max-old-space-size=96 --max-semi-space-size=2", 256)).toBe(96);
    expect(heapFromFlags("resources: {}", 256)).toBeUndefined();
  });

  it("passes on the chart's literal environment, not NODE_OPTIONS or values taken from the Pod", () => {
    const template = [
      "- name: POD_NAMESPACE",
      "  valueFrom:",
      "    fieldRef: {fieldPath: metadata.namespace}",
      "- name: NODE_OPTIONS",
      "  value: --max-semi-space-size=1",
      "- name: MALLOC_ARENA_MAX",
      '  value: "2"',
    ].join("\n");
    expect(literalEnv(template)).toEqual({ MALLOC_ARENA_MAX: "2" });
    expect(chartMemory().env).toEqual({ MALLOC_ARENA_MAX: "2", MALLOC_TRIM_THRESHOLD_: "131072" });
  });
});

describe("options", () => {
  it("takes a preset, then the environment, then flags", () => {
    const o = parseOptions(["--soak-flows=500", "--concurrency=2,4"], { BENCH_SIZE: "small", BENCH_SOAK_FLOWS: "7" });
    expect(o).toMatchObject({
      size: "small",
      soakFlows: 500,
      concurrency: [2, 4],
      flowsPerConcurrency: 4,
      enforce: ["count"],
    });
    expect(parseOptions([], {})).toMatchObject({
      size: "full",
      flows: 300,
      flowsPerConcurrency: 10,
      soakFlows: 10_000,
      stages: 1000,
      concurrency: [1, 8, 32],
    });
  });

  it("refuses unknown options and bad numbers, naming them", () => {
    expect(() => parseOptions(["--soak=1"], {})).toThrow(/unknown option --soak/);
    expect(() => parseOptions([], { BENCH_FLOWS: "-3" })).toThrow(/--flows must be a positive integer/);
    expect(() => parseOptions(["--enforce=speed"], {})).toThrow(/--enforce/);
    expect(() => parseOptions(["--phases=flows,warp"], {})).toThrow(/--phases takes flows,memory,scale/);
    expect(parseOptions(["--phases=memory"], {}).phases).toEqual(["memory"]);
    expect(parseOptions(["--node-options=--max-semi-space-size=4"], {}).nodeOptions).toBe("--max-semi-space-size=4");
    expect(parseOptions([], {}).nodeOptions).toBeUndefined();
  });
});

describe("figures", () => {
  const figure = (value: number, op: "<=" | ">=", limit: number, kind: Figure["kind"] = "ratio"): Figure => ({
    name: "f",
    value,
    unit: "x",
    kind,
    target: { op, limit },
  });

  it("passes at the limit and fails past it, or when not a number", () => {
    expect(passes(figure(0.8, ">=", 0.8))).toBe(true);
    expect(passes(figure(0.79, ">=", 0.8))).toBe(false);
    expect(passes(figure(12, "<=", 12))).toBe(true);
    expect(passes(figure(NaN, "<=", 12))).toBe(false);
  });

  it("fails the run only for enforced kinds, and says which are not enforced", () => {
    const figures = [figure(2, "<=", 1, "ratio"), figure(20, "<=", 12, "count")];
    expect(failures(figures, ["count"])).toEqual([figures[1]]);
    expect(formatFigure(figures[0] as Figure, ["count"])).toContain("miss (not enforced)");
    expect(formatFigure(figures[1] as Figure, ["count"])).toContain("MISS");
  });
});
