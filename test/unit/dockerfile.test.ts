// No Docker engine runs here, so the Dockerfile is checked, not built: the runtime it ships
// must be the Node.js major that the tests run on, and the image must run as non-root.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../harness/paths.ts";

const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const major = (range: string) => Number(/(\d+)/.exec(range)?.[1]);

describe("Dockerfile", () => {
  const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1] ?? "");

  it("builds and runs on the Node.js major of the test runtime", () => {
    expect(froms).toHaveLength(2);
    expect(froms[0]).toMatch(/^node:(\d+)-/);
    expect(froms[1]).toMatch(/nodejs(\d+)-/);
    const imageMajors = froms.map((f) => Number(/(?:node:|nodejs)(\d+)/.exec(f)?.[1]));
    expect(imageMajors).toEqual([major(pkg.devDependencies.node ?? ""), major(pkg.engines.node)]);
    expect(imageMajors[0]).toBe(Number(process.versions.node.split(".")[0]));
  });

  it("runs as a numeric non-root user and starts the compiled entry point", () => {
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(dockerfile).toMatch(/ENTRYPOINT \[.*"dist\/main\.js"\]/);
    expect(dockerfile).toContain("tsc -p tsconfig.build.json");
    expect(pkg.scripts.build).toContain("tsconfig.build.json");
  });
});
