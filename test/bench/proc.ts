// CPU time and resident memory of a process, from /proc (Linux). CPU is read as utime + stime
// of the process itself in clock ticks; the kernel's USER_HZ is 100 on every Linux ABI Node runs on.
import { readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) the process has used so far. */
export function cpuSeconds(pid: number): number {
  return parseCpuTicks(readFileSync(`/proc/${pid}/stat`, "utf8")) / TICKS_PER_SECOND;
}

/** utime + stime from a /proc/<pid>/stat line; the command name may contain spaces and parentheses. */
export function parseCpuTicks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields after the name start at 3 (state); utime is field 14, stime 15.
  return Number(fields[14 - 3]) + Number(fields[15 - 3]);
}

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  return parseRss(readFileSync(`/proc/${pid}/status`, "utf8"));
}

export function parseRss(status: string): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match?.[1]) throw new Error("no VmRSS in /proc/<pid>/status");
  return Number(match[1]) * 1024;
}

/** CPU seconds of several processes, summed. */
export const totalCpuSeconds = (pids: readonly number[]): number => pids.reduce((sum, p) => sum + cpuSeconds(p), 0);

export function loadAverage(): string {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}
