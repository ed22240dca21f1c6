// What an e2e test file needs: the node started by the project's global setup, kubectl and
// helm as the cluster admin, and waiting on the cluster's own state.
import { execFileSync } from "node:child_process";
import { inject } from "vitest";
import type { ClusterInfo } from "../../harness/cluster/cluster.ts";
import { nodeTool } from "../../harness/cluster/layout.ts";
import { waitFor } from "../../harness/wait.ts";

const provided = inject("cluster");
/** Why the e2e tests skip here, or undefined when a node runs. */
export const skipReason: string | undefined = "skip" in provided ? provided.skip : undefined;
export const cluster = provided as ClusterInfo;

function run(bin: string, args: readonly string[], input?: string, timeoutMs = 180_000): string {
  try {
    return execFileSync(bin, args, { encoding: "utf8", input, timeout: timeoutMs, stdio: ["pipe", "pipe", "pipe"] });
  } catch (e) {
    const err = e as { stderr?: string; stdout?: string; message: string };
    throw new Error(
      `${bin.split("/").at(-1)} ${args.join(" ")} failed:\n${err.stderr ?? ""}${err.stdout ?? ""}${err.stderr ? "" : err.message}`,
      { cause: e },
    );
  }
}

export const kubectl = (args: readonly string[], input?: string): string =>
  run(nodeTool("kubectl"), ["--kubeconfig", cluster.adminKubeconfig, ...args], input);

export const kubectlJson = <T = Record<string, unknown>>(args: readonly string[]): T =>
  JSON.parse(kubectl([...args, "-o", "json"])) as T;

export const helm = (args: readonly string[], timeoutMs?: number): string =>
  run(nodeTool("helm"), ["--kubeconfig", cluster.adminKubeconfig, ...args], undefined, timeoutMs);

/** Runs `step` and prints how long it took (installs and clean-ups are most of the project's time). */
export async function timed<T>(what: string, step: () => T | Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await step();
  } finally {
    console.log(`e2e: ${what} took ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  }
}

/** Polls until `probe` returns a value; errors count as "not yet". */
export function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  return waitFor(
    () => {
      try {
        return probe();
      } catch {
        return undefined;
      }
    },
    { what, timeoutMs, intervalMs: 250 },
  );
}

export interface PodSummary {
  name: string;
  phase: string;
  ready: boolean;
  deleting: boolean;
}

export function pods(namespace: string, selector: string): PodSummary[] {
  const list = kubectlJson<{
    items: {
      metadata: { name: string; deletionTimestamp?: string };
      status: { phase: string; conditions?: { type: string; status: string }[] };
    }[];
  }>(["-n", namespace, "get", "pods", "-l", selector]);
  return list.items.map((p) => ({
    name: p.metadata.name,
    phase: p.status.phase,
    ready: !!p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    deleting: !!p.metadata.deletionTimestamp,
  }));
}
