// Resident memory of a Pod's processes, read on the node (the tests run as root on it): the
// kubelet puts each Pod's processes in a cgroup whose path names the Pod's uid.
import { readdirSync, readFileSync } from "node:fs";
import { kubectl } from "./cluster.ts";

/** Sum of VmRSS (bytes) of every process in the Pod. */
export function podRssBytes(namespace: string, pod: string): number {
  const uid = kubectl(["-n", namespace, "get", "pod", pod, "-o", "jsonpath={.metadata.uid}"]).trim();
  const marker = `pod${uid}`; // cgroupfs driver: …/kubepods/<qos>/pod<uid>/<container>
  let total = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/cgroup`, "utf8").includes(marker)) continue;
      const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${entry}/status`, "utf8"));
      if (rss?.[1]) total += Number(rss[1]) * 1024;
    } catch {
      // the process ended while we looked
    }
  }
  return total;
}

const UNITS: Record<string, number> = { "": 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** "192Mi" → bytes (the binary suffixes the chart uses). */
export function quantityBytes(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
  if (!m?.[1]) throw new Error(`unsupported quantity ${q}`);
  return Number(m[1]) * (UNITS[m[2] ?? ""] ?? Number.NaN);
}
