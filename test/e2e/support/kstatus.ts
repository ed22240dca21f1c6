// Status as Flux (and the cli-utils apply tooling) computes it: tools/bin/kstatus runs the
// sigs.k8s.io/cli-utils kstatus library on the objects kubectl returns.
import { execFileSync } from "node:child_process";
import { nodeTool } from "../../harness/cluster/layout.ts";
import { kubectl } from "./cluster.ts";

export type KStatus = "InProgress" | "Failed" | "Current" | "Terminating" | "NotFound" | "Unknown";
export interface KStatusLine {
  kind: string;
  namespace?: string;
  name: string;
  status: KStatus;
  message: string;
}

/** kstatus of every object `kubectl get <what> -o json` returns. */
export function kstatus(what: readonly string[]): KStatusLine[] {
  const json = kubectl(["get", ...what, "-o", "json"]);
  const out = execFileSync(nodeTool("kstatus"), { input: json, encoding: "utf8" });
  return out
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as KStatusLine);
}

export const kstatusOne = (kind: string, name: string, namespace = "default"): KStatusLine => {
  const [line] = kstatus(["-n", namespace, kind, name]);
  if (!line) throw new Error(`no kstatus for ${kind} ${namespace}/${name}`);
  return line;
};
