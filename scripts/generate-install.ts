// Writes manifests/install/all.yaml from the Helm chart (see install-bundle.ts). Needs tools/bin/helm.
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { BUNDLE_PATH, installBundle } from "./install-bundle.ts";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
writeFileSync(new URL(`../${BUNDLE_PATH}`, import.meta.url), installBundle(repoRoot));
console.log(`wrote ${BUNDLE_PATH}`);
