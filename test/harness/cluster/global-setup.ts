// One node for the whole e2e project: the test files run one after another against it (its
// ports are fixed). Builds what is missing first (tools, images), with progress. On a machine
// that cannot run a node (not root, not Linux, packages missing) the project skips and says why.
import { execFileSync } from "node:child_process";
import type { TestProject } from "vitest/node";
import { onTerminationSignals } from "../processes.ts";
import { repoRoot } from "../paths.ts";
import { Cluster, type ClusterInfo } from "./cluster.ts";
import { buildImages } from "./images.ts";
import { missingPrerequisites } from "./prerequisites.ts";

declare module "vitest" {
  export interface ProvidedContext {
    cluster: ClusterInfo | { skip: string };
  }
}

export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const t0 = Date.now();
  const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)}s`;
  execFileSync("bash", ["tools/build.sh", "all"], { cwd: repoRoot, stdio: "inherit" });
  const missing = missingPrerequisites();
  if (missing.length) {
    const skip = `the e2e tests need a node, which cannot run here:\n  - ${missing.join("\n  - ")}`;
    console.log(`e2e: SKIPPED: ${skip}`);
    project.provide("cluster", { skip });
    return undefined;
  }
  buildImages();
  console.log(`e2e: tools and images checked in ${seconds(t0)}`);
  const started = Date.now();
  const cluster = await Cluster.start({ progress: (m) => console.log(`cluster: ${m}`) });
  console.log(`cluster: up in ${((Date.now() - started) / 1000).toFixed(1)}s at ${cluster.info.server}`);
  const release = onTerminationSignals(() => cluster.stop());
  project.provide("cluster", cluster.info);
  return async () => {
    release();
    const stopping = Date.now();
    await cluster.stop();
    console.log(`cluster: stopped in ${seconds(stopping)}; nothing left behind`);
  };
}
