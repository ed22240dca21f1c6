// A small run of `npm run bench` on its own control plane, Mailpit and operator process, so the
// benchmark cannot rot: every phase runs, and the counts it reports (API requests and writes per
// completed flow, no 404/409 answers) must meet issue 9's targets. Times and memory are
// reported, not judged, on so few flows.
import { expect, it } from "vitest";
import { runBench } from "../bench/bench.ts";
import { failures, formatFigure } from "../bench/figures.ts";
import { parseOptions } from "../bench/options.ts";

it("runs every phase of the benchmark and meets the count targets", { timeout: 300_000 }, async () => {
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
  expect(failures(figures, options.enforce).map((f) => formatFigure(f, options.enforce))).toEqual([]);
});
