// The runtime package's README shows its example controller verbatim; the example itself is
// type-checked with the repository and run by test/integration/informer-example.test.ts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../harness/paths.ts";

const runtime = join(repoRoot, "packages", "operator-runtime");

describe("packages/operator-runtime/README.md", () => {
  it("carries examples/configmap-controller.ts verbatim", () => {
    const readme = readFileSync(join(runtime, "README.md"), "utf8");
    const example = readFileSync(join(runtime, "examples", "configmap-controller.ts"), "utf8");
    expect(readme).toContain("```ts\n" + example + "```\n");
  });
});
