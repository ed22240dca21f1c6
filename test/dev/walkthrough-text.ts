// The walk-through both dev stacks print: the steps of test/dev/walkthrough.sh, indented.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../harness/paths.ts";

export function walkthroughSteps(): string {
  return readFileSync(join(repoRoot, "test", "dev", "walkthrough.sh"), "utf8")
    .split("\n")
    .slice(3)
    .map((l) => `    ${l}`)
    .join("\n");
}
