// The Dockerfile's promises that hold without building it (the e2e tests build it with buildah
// and run it on a node): the base images are build arguments whose defaults are the official
// images on the Node.js major the tests run on, and the image runs as a numeric non-root user.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../harness/paths.ts";

const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const major = (range: string) => Number(/(\d+)/.exec(range)?.[1]);
const arg = (name: string) => new RegExp(`^ARG ${name}=(\\S+)$`, "m").exec(dockerfile)?.[1] ?? "";

describe("Dockerfile", () => {
  it("takes its bases as build arguments defaulting to the official images of the test runtime's major", () => {
    expect([...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1])).toEqual(["${NODE_IMAGE}", "${RUNTIME_IMAGE}"]);
    expect(arg("NODE_IMAGE")).toMatch(/^node:(\d+)-bookworm-slim$/);
    expect(arg("RUNTIME_IMAGE")).toMatch(/^gcr\.io\/distroless\/nodejs(\d+)-debian12:nonroot$/);
    const majors = [arg("NODE_IMAGE"), arg("RUNTIME_IMAGE")].map((f) => Number(/(?:node:|nodejs)(\d+)/.exec(f)?.[1]));
    expect(majors).toEqual([major(pkg.devDependencies.node ?? ""), major(pkg.engines.node)]);
    expect(majors[0]).toBe(Number(process.versions.node.split(".")[0]));
  });

  it("runs as a numeric non-root user and starts the bundle of the operator's entry point", () => {
    const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(dockerfile).toMatch(/ENTRYPOINT \["\/nodejs\/bin\/node", "operator\.mjs"\]/);
    expect(dockerfile).toMatch(/node scripts\/bundle\.ts \/out$/m);
    expect(readFileSync(join(repoRoot, ".dockerignore"), "utf8")).toMatch(/^!scripts\/bundle\.ts$/m);
  });

  it("bundles with the esbuild version the repository pins", () => {
    expect(arg("ESBUILD_VERSION")).toMatch(/^\d+\.\d+\.\d+$/);
    expect(arg("ESBUILD_VERSION")).toBe(pkg.devDependencies.esbuild);
  });
});
