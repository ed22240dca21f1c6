// Writes crds/<plural>.yaml from src/api (the single source of truth for the schemas).
import { writeFileSync } from "node:fs";
import { crdFiles } from "../src/api/crd-files.ts";

for (const { path, text } of crdFiles()) {
  writeFileSync(new URL(`../${path}`, import.meta.url), text);
  console.log(`wrote ${path}`);
}
