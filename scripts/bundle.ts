// Bundles the operator into one ES module, dist/operator.mjs, with the pages' assets beside it: the
// file the image runs. One bundle instead of hundreds of modules loads faster and takes less heap
// and RSS (docs/performance.md).
// Whitespace and syntax are minified; identifiers are not renamed, so stack traces and error types stay readable.
// The image's build stage runs this with esbuild from ESBUILD (a module path), the repo with its own.
import { cpSync, mkdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type * as Esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = resolve(root, process.argv[2] ?? "dist");
const started = performance.now();
const esbuild = (await import(process.env.ESBUILD ?? "esbuild")) as typeof Esbuild;

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
const outfile = join(outDir, "operator.mjs");
await esbuild.build({
  entryPoints: [join(root, "src", "main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: "none",
  logLevel: "warning",
  // Some dependencies are CommonJS and call require(); an ES module has none of its own.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);",
  },
});
// V8 keeps a script's source in memory, as one byte per character only if every character is
// ASCII: a single other one (esbuild cannot escape those in tagged templates' raw text) doubles it,
// 5 MiB more on every replica. Write such characters as escapes or HTML entities instead.
const source = readFileSync(outfile);
const at = source.findIndex((byte) => byte > 0x7f);
if (at >= 0) {
  const around = source.subarray(Math.max(0, at - 60), at + 20).toString("utf8");
  throw new Error(`bundle: a non-ASCII character at byte ${at}, in: ${JSON.stringify(around)}`);
}
// src/pages/router.ts reads its assets relative to its own module, which is now this bundle.
cpSync(join(root, "src", "pages", "assets"), join(outDir, "assets"), { recursive: true });
const mib = (statSync(outfile).size / 1048576).toFixed(1);
process.stdout.write(`bundle: ${outfile} (${mib} MiB) and assets/ in ${Math.round(performance.now() - started)} ms\n`);
