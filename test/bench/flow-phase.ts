// Full flows at each concurrency level, each run next to its floor: flows per second, API
// requests per completed flow (by verb, resource and code) and CPU per flow of the operator,
// the API server and etcd, all from the same runs.
import { coreApi, customObjectsApi } from "@emailauth/operator-runtime";
import { OPERATOR_NAMESPACE } from "../harness/controlplane.ts";
import { type RequestSummary, difference, settledTotals, summarize } from "./apiserver-metrics.ts";
import { Floor } from "./floor.ts";
import { FlowClient } from "./flow-client.ts";
import { MailReader } from "./mail-reader.ts";
import { Failures, runPool } from "./pool.ts";
import { cpuSeconds, loadAverage } from "./proc.ts";
import type { Stack } from "./stack.ts";

export type FlowKind = "Setup" | "Authenticate";

export interface RunResult {
  kind: FlowKind;
  concurrency: number;
  flows: number;
  /** Flows that did not complete (the others are what is counted). */
  failed: number;
  floorFailed: number;
  firstError?: string;
  perSecond: number;
  floorPerSecond: number;
  requests: RequestSummary;
  floorRequests: RequestSummary;
  /** CPU seconds per flow. */
  cpu: Cpu;
  /** The same for the floor (its client is the benchmark process, `client`). */
  floorCpu: Cpu;
  load: string;
}

/**
 * CPU seconds per flow of each process; `client` is this benchmark process, which is the floor's
 * client or the flows' HTTP client, and reads the mailbox in both.
 */
export interface Cpu {
  operator: number;
  apiserver: number;
  etcd: number;
  mailpit: number;
  client: number;
}

interface Snapshot {
  at: number;
  cpu: Cpu;
}

export async function flowPhase(
  s: Stack,
  o: { concurrency: number[]; flows: number; quietMs: number; log: (m: string) => void },
): Promise<RunResult[]> {
  const mail = new MailReader(s.mailpit.httpUrl);
  const client = new FlowClient({ baseUrl: `http://127.0.0.1:${s.operator.httpPort}`, appToken: s.appToken, mail });
  const floor = new Floor({
    core: coreApi(s.operatorKube),
    custom: customObjectsApi(s.operatorKube),
    namespace: s.namespaces.floor,
    secretsNamespace: OPERATOR_NAMESPACE,
    smtp: { host: "127.0.0.1", port: s.mailpit.smtpPort },
    mail,
  });
  const [etcdPid = -1, apiserverPid = -1] = s.plane.pids();
  const snapshot = (): Snapshot => ({
    at: performance.now(),
    cpu: {
      operator: cpuSeconds(s.operator.process.pid),
      apiserver: cpuSeconds(apiserverPid),
      etcd: cpuSeconds(etcdPid),
      mailpit: cpuSeconds(s.mailpit.pid),
      client: ownCpuSeconds(),
    },
  });

  await floor.prepare();
  // The first flows of a fresh process compile its code; measured runs start warm.
  const warm = Math.max(10, ...o.concurrency);
  await runPool(warm, 4, (i) =>
    client.run(s.namespaces.flows, "enroll", { id: `warm-${i}`, email: `warm-${i}@bench.example` }),
  );
  await runPool(warm, 4, (i) =>
    client.run(s.namespaces.flows, "login", { id: `warm-${i}`, email: `warm-${i}@bench.example` }),
  );
  await runPool(warm, 4, (i) => floor.setup(900_000 + i));
  await runPool(warm, 4, (i) => floor.authenticate(900_000 + i));
  o.log(`warmed up with ${warm} flows of each kind and floor`);
  let quiet = await settledTotals(s.admin, o.quietMs);
  const CPU_QUIET_MS = 1500;
  /** Runs `n` tasks at concurrency `c`: flows per second; requests counted from quiet to quiet. */
  const measure = async (label: string, n: number, c: number, task: (i: number) => Promise<void>) => {
    const before = quiet;
    const failures = new Failures();
    const start = snapshot();
    await runPool(n, c, failures.wrap(task), (done) => o.log(`${label}: ${done}/${n}`));
    const end = snapshot();
    // CPU: the flows and the work right after them. Requests: until nothing more can follow (the
    // long quiet covers batched writes), without charging that wait's idle CPU to the flows.
    await settledTotals(s.admin, CPU_QUIET_MS);
    const settled = snapshot();
    const after = (quiet = await settledTotals(s.admin, o.quietMs));
    const completed = n - failures.count;
    if (failures.first) o.log(`${label}: ${failures.count} failed, first: ${failures.first}`);
    const perFlow = (k: keyof Snapshot["cpu"]) => (settled.cpu[k] - start.cpu[k]) / completed;
    return {
      failures,
      perSecond: completed / ((end.at - start.at) / 1000),
      requests: perFlowSummary(summarize(difference(after, before)), completed),
      cpu: {
        operator: perFlow("operator"),
        apiserver: perFlow("apiserver"),
        etcd: perFlow("etcd"),
        mailpit: perFlow("mailpit"),
        client: perFlow("client"),
      },
    };
  };

  const results: RunResult[] = [];
  try {
    for (const c of o.concurrency) {
      const n = Math.max(o.flows, 4 * c);
      const user = (i: number) => ({ id: `c${c}-${i}`, email: `c${c}-${i}@bench.example` });
      for (const kind of ["Setup", "Authenticate"] as const) {
        const floorRun = await measure(`c=${c} ${kind} floor`, n, c, (i) =>
          kind === "Setup" ? floor.setup(i + c * 100_000) : floor.authenticate(i + c * 100_000),
        );
        const load = loadAverage();
        const run = await measure(`c=${c} ${kind} flows`, n, c, (i) =>
          client.run(s.namespaces.flows, kind === "Setup" ? "enroll" : "login", user(i)),
        );
        const result: RunResult = {
          kind,
          concurrency: c,
          flows: n,
          failed: run.failures.count,
          floorFailed: floorRun.failures.count,
          ...(run.failures.first || floorRun.failures.first
            ? { firstError: run.failures.first ?? `floor: ${floorRun.failures.first}` }
            : {}),
          perSecond: run.perSecond,
          floorPerSecond: floorRun.perSecond,
          requests: run.requests,
          floorRequests: floorRun.requests,
          cpu: run.cpu,
          floorCpu: floorRun.cpu,
          load,
        };
        results.push(result);
        o.log(
          `c=${c} ${kind}: ${run.perSecond.toFixed(1)} flows/s vs floor ${floorRun.perSecond.toFixed(1)}/s; ` +
            `${run.requests.requests.toFixed(1)} requests, ${run.requests.writes.toFixed(1)} writes per flow ` +
            `(floor ${floorRun.requests.requests.toFixed(1)}/${floorRun.requests.writes.toFixed(1)}); ` +
            `CPU per flow: ${cpuLine(run.cpu)} (floor: ${cpuLine(floorRun.cpu)}); load ${load}`,
        );
      }
    }
  } finally {
    floor.close();
  }
  return results;
}

const ms = (seconds: number) => `${(seconds * 1000).toFixed(1)} ms`;

const cpuLine = (c: Cpu) =>
  `operator ${ms(c.operator)}, API server ${ms(c.apiserver)}, etcd ${ms(c.etcd)}, Mailpit ${ms(c.mailpit)}, client ${ms(c.client)}`;

/** This process's CPU seconds, as /proc counts them for the others. */
function ownCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function perFlowSummary(s: RequestSummary, n: number): RequestSummary {
  return {
    requests: s.requests / n,
    writes: s.writes / n,
    notFound: s.notFound / n,
    conflicts: s.conflicts / n,
    breakdown: s.breakdown.map(([k, v]) => [k, v / n]),
  };
}
