// Writes crds/<plural>.yaml and the chart's CRD templates from src/kinds (the single source of
// truth for the schemas).
import { writeFileSync } from "node:fs";
import { crdFiles } from "../src/kinds/crd-files.ts";
import { chartCrdFiles } from "./chart-crd-files.ts";

for (const { path, text } of [...crdFiles(), ...chartCrdFiles()]) {
  writeFileSync(new URL(`../${path}`, import.meta.url), text);
  console.log(`wrote ${path}`);
}
