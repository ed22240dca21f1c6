// Child processes that must not outlive us. A group tracks what it started, sends each
// child's output to a log file (its tail is shown when the child dies early), and kills
// whatever is left when our process exits for any reason.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";

export interface Managed {
  name: string;
  pid: number;
  logFile: string;
  exited: Promise<void>;
  /** Set once the process has ended, with its exit status and last output. */
  exitError(): Error | undefined;
}

export class ProcessGroup {
  #live = new Set<ChildProcess>();
  // 'exit' listeners must be synchronous, so this one only sends SIGKILL.
  #onExit = (): void => this.killAllSync();

  constructor() {
    process.on("exit", this.#onExit);
  }

  start(name: string, command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv = process.env): Managed {
    const log = createWriteStream(logFile, { flags: "a" });
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env });
    child.stdout.pipe(log);
    child.stderr.pipe(log);
    this.#live.add(child);
    let error: Error | undefined;
    const exited = new Promise<void>((resolve) => {
      child.once("error", (e) => {
        error = new Error(`${name}: could not start ${command}: ${e.message}`);
        this.#live.delete(child);
        resolve();
      });
      child.once("exit", (code, signal) => {
        this.#live.delete(child);
        error ??= new Error(`${name} exited (${signal ?? `code ${code}`}); last output:\n${tail(logFile)}`);
        resolve();
      });
    });
    return { name, pid: child.pid ?? -1, logFile, exited, exitError: () => error };
  }

  /** SIGTERM, then SIGKILL once the grace period is over. */
  async stop(p: Managed, graceMs = 5000): Promise<void> {
    if (p.exitError() || !isRunning(p.pid)) return;
    process.kill(p.pid, "SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)));
    if (await Promise.race([p.exited.then(() => false), timedOut])) {
      if (isRunning(p.pid)) process.kill(p.pid, "SIGKILL");
      await p.exited;
    }
    clearTimeout(timer);
  }

  killAllSync(): void {
    for (const child of this.#live) child.kill("SIGKILL");
    this.#live.clear();
  }

  /** Call when the group is done; it no longer needs the exit hook. */
  dispose(): void {
    this.killAllSync();
    process.off("exit", this.#onExit);
  }
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * For entry points (test global setup, dev stack): on Ctrl-C or SIGTERM run `cleanup`, then
 * exit with the conventional status. Without a listener Node would die without an 'exit' event.
 */
export function onTerminationSignals(cleanup: () => Promise<void> | void): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    void Promise.resolve()
      .then(cleanup)
      .finally(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
