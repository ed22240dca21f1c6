// The operator as a real process (node src/main.ts) against the harness control plane, under
// the least-privilege identity. Tests read its logs to prove what never reaches them.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";
import { type Managed, ProcessGroup } from "./processes.ts";
import { repoRoot } from "./paths.ts";
import { waitFor } from "./wait.ts";

export interface OperatorProcess {
  process: Managed;
  healthUrl: string;
  httpPort: number;
  logs(): string;
  metric(name: string): Promise<number | undefined>;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export interface OperatorProcessOptions {
  kubeconfig: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Wait for /readyz (caches synced); default true. */
  waitReady?: boolean;
  /** Default: a fresh temp dir. */
  logFile?: string;
  /** Default debug; the benchmark runs at info, as the chart does. */
  logLevel?: string;
  /** The script node runs: default src/main.ts; the benchmark runs the bundle the image ships. */
  entry?: string;
  /** Node.js options given on its command line, before the script (V8 flags NODE_OPTIONS refuses). */
  nodeArgs?: string[];
}

export async function startOperator(o: OperatorProcessOptions): Promise<OperatorProcess> {
  const [healthPort, httpPort] = [await freePort(), await freePort()];
  const logFile = o.logFile ?? join(mkdtempSync(join(tmpdir(), "eao-operator-")), "operator.log");
  const group = new ProcessGroup();
  const process_ = group.start(
    "operator",
    process.execPath,
    [
      ...(o.nodeArgs ?? []),
      o.entry ?? join(repoRoot, "src", "main.ts"),
      `--health-port=${healthPort}`,
      `--http-port=${httpPort}`,
      `--log-level=${o.logLevel ?? "debug"}`,
      // Plain HTTP on loopback unless the test serves TLS from a Secret.
      ...(o.args.some((a) => a.startsWith("--tls-secret")) ? [] : ["--insecure-http"]),
      ...o.args,
    ],
    logFile,
    { ...process.env, KUBECONFIG: o.kubeconfig, ...o.env },
  );
  const healthUrl = `http://127.0.0.1:${healthPort}`;
  const logs = () => readFileSync(logFile, "utf8");
  const op: OperatorProcess = {
    process: process_,
    healthUrl,
    httpPort,
    logs,
    async metric(name) {
      const text = await (await fetch(`${healthUrl}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
      return line === undefined ? undefined : Number(line.split(" ").at(-1));
    },
    async stop() {
      await group.stop(process_, 15_000);
      group.dispose();
    },
    async kill() {
      group.killAllSync();
      await process_.exited;
      group.dispose();
    },
  };
  if (o.waitReady ?? true) {
    await waitFor(async () => ((await fetch(`${healthUrl}/readyz`)).ok ? true : undefined), {
      what: "the operator's /readyz",
      timeoutMs: 30_000,
      intervalMs: 100,
      failFast: () => process_.exitError(),
    });
  }
  return op;
}
