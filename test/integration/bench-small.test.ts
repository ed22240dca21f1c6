// A small run of `npm run bench` on its own control plane, Mailpit and operator process, so the
// benchmark cannot rot: every phase runs and every flow completes, and the counts meet issue 9's
// targets (docs/performance.md), so a change that adds API calls to a sign-in, or a write that
// collides with another, fails here. Times and memory are reported, not judged, on so few flows.
import { expect, it } from "vitest";
import { runBench } from "../bench/bench.ts";
import { formatFigure } from "../bench/figures.ts";
import { parseOptions } from "../bench/options.ts";

/** The targets: requests and writes per completed flow, and no 404 or 409 in a successful flow. */
const CEILINGS: Record<string, number> = {
  "API requests per Setup flow": 12,
  "API writes per Setup flow": 8,
  "API requests per Authenticate flow": 9,
  "API writes per Authenticate flow": 6,
  "404 and 409 answers per completed flow": 0,
  "flows that did not complete": 0,
};

it(
  "runs every phase of the benchmark, completes every flow and keeps the API calls per flow in bounds",
  { timeout: 300_000 },
  async () => {
    const options = parseOptions([], { BENCH_SIZE: "small" });
    const { figures } = await runBench(options, (m) => console.log(`bench: ${m}`));
    console.log(figures.map((f) => formatFigure(f, options.enforce)).join("\n"));
    expect(figures.filter((f) => f.kind === "count").map((f) => f.name)).toEqual([
      "API requests per Setup flow",
      "API writes per Setup flow",
      "API requests per Authenticate flow",
      "API writes per Authenticate flow",
      "404 and 409 answers per completed flow",
      "flows that did not complete",
    ]);
    expect(figures.every((f) => Number.isFinite(f.value))).toBe(true);
    const over = figures
      .filter((f) => f.kind === "count" && f.value > (CEILINGS[f.name] ?? -1))
      .map((f) => `${f.name}: ${f.value} > ${CEILINGS[f.name]}`);
    expect(over).toEqual([]);
  },
);
