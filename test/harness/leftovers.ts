// Finds processes we started, to prove that none outlives the test run or the dev stack.
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { RUN_DIR } from "./cluster/layout.ts";
import { toolsBin } from "./paths.ts";

export interface ProcessInfo {
  pid: number;
  ppid: number;
  exe: string;
  cmdline: string;
}

export function processes(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const exe = readlinkSync(`/proc/${entry}/exe`);
      // Field 4 of /proc/<pid>/stat is the parent pid; the command name before it may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      found.push({ pid: Number(entry), ppid, exe, cmdline });
    } catch {
      // the process ended while we looked, or is not ours to read
    }
  }
  return found;
}

/** Processes started from tools/bin: etcd, kube-apiserver, kubectl, mailpit. */
export const toolProcesses = (): ProcessInfo[] => processes().filter((p) => p.exe.startsWith(`${toolsBin}/`));

/**
 * A run killed with SIGKILL cannot stop its children; they are re-parented to init. The next
 * run ends them, so they never pile up. Children of a live parent (another run, the dev stack)
 * are left alone.
 */
export function reapOrphans(log: (message: string) => void): number {
  // containerd's shims always run re-parented to init; the e2e node's teardown owns them.
  const orphans = toolProcesses().filter((p) => p.ppid === 1 && !p.cmdline.includes(RUN_DIR));
  for (const p of orphans) {
    try {
      process.kill(p.pid, "SIGKILL");
      log(`ended ${p.cmdline.split(" ")[0]} (pid ${p.pid}), left behind by an earlier run that was killed`);
    } catch {
      // already gone
    }
  }
  return orphans.length;
}
