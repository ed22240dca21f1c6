// One control plane per integration run, shared by every test file; files isolate
// themselves by namespace (see context.ts). Tools are built first if they are missing.
import { execFileSync } from "node:child_process";
import type { TestProject } from "vitest/node";
import { ControlPlane, type ControlPlaneInfo } from "./controlplane.ts";
import { reapOrphans } from "./leftovers.ts";
import { onTerminationSignals } from "./processes.ts";
import { repoRoot } from "./paths.ts";

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  execFileSync("bash", ["tools/build.sh"], { cwd: repoRoot, stdio: "inherit" });
  reapOrphans((m) => console.log(`test setup: ${m}`));
  const started = Date.now();
  const plane = await ControlPlane.start({ progress: (m) => console.log(`control plane: ${m}`) });
  console.log(`control plane: up in ${Date.now() - started} ms at ${plane.info.server}`);
  const release = onTerminationSignals(() => plane.stop());
  project.provide("controlPlane", plane.info);
  return async () => {
    release();
    await plane.stop();
  };
}
