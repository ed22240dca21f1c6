// `--help` (the chart's values.yaml and the docs point to it) prints every option and exits 0,
// before any configuration is parsed or any cluster is contacted.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OPTIONS, envName } from "../../src/config/options.ts";
import { repoRoot } from "../harness/paths.ts";

describe("operator --help", () => {
  it("lists every option with its environment variable and exits 0", () => {
    const result = spawnSync(process.execPath, [join(repoRoot, "src", "main.ts"), "--help"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", KUBECONFIG: "/nonexistent" },
      timeout: 30_000,
    });
    expect(result.status, result.stderr).toBe(0);
    for (const flag of Object.keys(OPTIONS)) {
      expect(result.stdout).toContain(`--${flag}`);
      expect(result.stdout).toContain(envName(flag));
    }
  }, 30_000); // a busy machine may take its time to start Node.js
});
