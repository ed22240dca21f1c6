// The chart's CRD templates are generated from src/kinds like crds/; this fails when either side is
// edited alone. Fix by running `npm run generate`. (test/unit/chart.test.ts checks what they render.)
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CHART_DIR, chartCrdFiles, escapeTemplate } from "../../scripts/chart-crd-files.ts";
import { repoRoot } from "../harness/paths.ts";

describe(`${CHART_DIR}/templates/crd-*.yaml`, () => {
  const files = chartCrdFiles();

  it.each(files.map((f) => [f.path, f.text]))("%s matches the schemas in src/kinds", (path, text) => {
    expect(readFileSync(join(repoRoot, path), "utf8"), "run `npm run generate`").toBe(text);
  });

  it("has no CRD template that src/kinds does not generate", () => {
    const onDisk = readdirSync(join(repoRoot, CHART_DIR, "templates")).filter((f) => f.startsWith("crd-"));
    expect(onDisk.map((f) => `${CHART_DIR}/templates/${f}`).sort()).toEqual(files.map((f) => f.path).sort());
  });

  it("gates every CRD on crds.enabled and keeps it with crds.keep", () => {
    for (const { text } of files) {
      expect(text).toMatch(/^\{\{- if \.Values\.crds\.enabled \}\}$/m);
      expect(text).toMatch(
        /\{\{- if \.Values\.crds\.keep \}\}\n\s+annotations:\n(\s+#.*\n)?\s+helm\.sh\/resource-policy: keep\n/,
      );
    }
  });

  it("escapes text that Helm would read as a template action", () => {
    expect(escapeTemplate("message: {{ not a template }}")).toBe('message: {{ "{{" }} not a template }}');
    expect(escapeTemplate("plain }} text")).toBe("plain }} text");
  });
});
