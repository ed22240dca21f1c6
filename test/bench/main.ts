// `npm run bench`: what a sign-in costs and how the operator scales, each figure a ratio
// against a floor measured in the same run, or a count, CPU or memory figure with its target
// (issue 9). Progress goes to stdout as it runs; the output ends with one line per figure.
// Exits 1 when an enforced figure misses its target. Options: see options.ts (or --help).
import { runBench } from "./bench.ts";
import { failures, formatFigure } from "./figures.ts";
import { parseOptions, usage } from "./options.ts";
import { loadAverage } from "./proc.ts";

if (process.argv.includes("--help")) {
  console.log(`npm run bench -- [options]\n${usage()}`);
  process.exit(0);
}
// Exiting fires the harness's exit hooks, which kill the control plane, Mailpit and the operator.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
const options = parseOptions(process.argv.slice(2), process.env);
const started = Date.now();
const log = (m: string) => {
  const s = Math.round((Date.now() - started) / 1000);
  console.log(`bench [${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}] ${m}`);
};
log(`${options.size} run: ${JSON.stringify(options)}`);
const result = await runBench(options, log);
console.log(`\n${result.details.join("\n")}\n`);
console.log(
  `bench: ${result.figures.length} figures (load average now ${loadAverage()}; enforced: ${options.enforce.join(", ")})`,
);
for (const f of result.figures) console.log(formatFigure(f, options.enforce));
const missed = failures(result.figures, options.enforce);
if (missed.length > 0) {
  console.log(`\nbench: ${missed.length} figure(s) missed their target`);
  process.exitCode = 1;
}
