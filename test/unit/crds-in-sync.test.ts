// crds/ is generated from the zod schemas in src/kinds; this fails when someone edits one side
// only. Fix by running `npm run generate`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { crdFiles } from "../../src/kinds/crd-files.ts";
import { repoRoot } from "../harness/paths.ts";

describe("crds/", () => {
  it.each(crdFiles().map((f) => [f.path, f.text]))("%s matches the schemas in src/kinds", (path, text) => {
    expect(readFileSync(join(repoRoot, path), "utf8"), "run `npm run generate`").toBe(text);
  });
});
