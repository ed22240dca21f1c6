// Finds processes started from tools/bin, to prove that none outlives the test run or the dev stack.
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { toolsBin } from "./paths.ts";

export interface ToolProcess {
  pid: number;
  ppid: number;
  exe: string;
}

export function toolProcesses(): ToolProcess[] {
  const found: ToolProcess[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const exe = readlinkSync(`/proc/${entry}/exe`);
      if (!exe.startsWith(`${toolsBin}/`)) continue;
      // Field 4 of /proc/<pid>/stat is the parent pid; the command name before it may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      found.push({ pid: Number(entry), ppid, exe });
    } catch {
      // the process ended while we looked, or is not ours to read
    }
  }
  return found;
}
