// Full flows at each concurrency level, each run next to its floor, the two taking turns in
// rounds: flows per second, API requests per completed flow (by verb, resource and code, counted
// in the first round) and CPU per flow of each process, all from the same runs.
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
  /** How many turns floor and flows took (the requests are counted in the first). */
  rounds: number;
  /** The completed flows of the first round, whose requests `requests` counts. */
  countedFlows: number;
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

const CPU_KEYS = ["operator", "apiserver", "etcd", "mailpit", "client"] as const;
const zeroCpu = (): Cpu => ({ operator: 0, apiserver: 0, etcd: 0, mailpit: 0, client: 0 });
/** Turns floor and flows take per level and kind (fewer when a round would be under 2 × c flows). */
const MAX_ROUNDS = 3;

interface Snapshot {
  at: number;
  cpu: Cpu;
}

export async function flowPhase(
  s: Stack,
  o: { concurrency: number[]; flows: number; flowsPerConcurrency: number; quietMs: number; log: (m: string) => void },
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
  /** Whether requests were made since `quiet` was taken (by chunks that were not counted). */
  let quietIsStale = false;
  const CPU_QUIET_MS = 1500;
  type Side = ReturnType<typeof newSide>;
  const newSide = () => ({ failures: new Failures(), flows: 0, seconds: 0, cpu: zeroCpu() });
  /**
   * One chunk of `n` tasks at concurrency `c`, added to `side`: its time, and the CPU of the
   * chunk and the work right after it. With `count`, the API requests it caused are counted from
   * quiet to quiet (the long quiet covers batched writes), without charging that wait's idle CPU.
   */
  const chunk = async (
    side: Side,
    label: string,
    n: number,
    c: number,
    task: (i: number) => Promise<void>,
    count: boolean,
  ): Promise<{ requests?: RequestSummary; completed: number }> => {
    if (count && quietIsStale) quiet = await settledTotals(s.admin, o.quietMs);
    quietIsStale = !count;
    const before = quiet;
    const failedBefore = side.failures.count;
    const start = snapshot();
    await runPool(n, c, side.failures.wrap(task), (done) => o.log(`${label}: ${done}/${n}`));
    const end = snapshot();
    // The CPU window closes before the request totals are settled: each scrape of the API
    // server's metrics costs it ~35 ms of CPU, which no flow caused.
    await new Promise((r) => setTimeout(r, CPU_QUIET_MS));
    const settled = snapshot();
    const completed = n - (side.failures.count - failedBefore);
    side.flows += completed;
    side.seconds += (end.at - start.at) / 1000;
    for (const k of CPU_KEYS) side.cpu[k] += settled.cpu[k] - start.cpu[k];
    if (!count) return { completed };
    const after = (quiet = await settledTotals(s.admin, o.quietMs));
    return { requests: perFlowSummary(summarize(difference(after, before)), completed), completed };
  };
  const perFlowCpu = (side: Side): Cpu => {
    const cpu = zeroCpu();
    for (const k of CPU_KEYS) cpu[k] = side.cpu[k] / side.flows;
    return cpu;
  };

  const results: RunResult[] = [];
  try {
    for (const c of o.concurrency) {
      const n = Math.max(o.flows, o.flowsPerConcurrency * c);
      // Floor and flows take turns in rounds of at least 2 × c flows each, so that both meet the
      // same machine: on shared cores the floor alone varied by a third between minutes.
      const rounds = Math.max(1, Math.min(MAX_ROUNDS, Math.floor(n / (2 * c))));
      const sizes = Array.from({ length: rounds }, (_, r) => Math.floor(n / rounds) + (r < n % rounds ? 1 : 0));
      const user = (i: number) => ({ id: `c${c}-${i}`, email: `c${c}-${i}@bench.example` });
      for (const kind of ["Setup", "Authenticate"] as const) {
        const floorSide = newSide();
        const ours = newSide();
        let requests: RequestSummary | undefined;
        let floorRequests: RequestSummary | undefined;
        let countedFlows = 0;
        let offset = 0;
        const load = loadAverage();
        for (const [r, size] of sizes.entries()) {
          const first = offset;
          const round = rounds > 1 ? ` (round ${r + 1}/${rounds})` : "";
          // Requests are counted in the first round, each side from quiet to quiet.
          const counted = await chunk(
            floorSide,
            `c=${c} ${kind} floor${round}`,
            size,
            c,
            (i) =>
              kind === "Setup" ? floor.setup(first + i + c * 100_000) : floor.authenticate(first + i + c * 100_000),
            r === 0,
          );
          floorRequests ??= counted.requests;
          const mine = await chunk(
            ours,
            `c=${c} ${kind} flows${round}`,
            size,
            c,
            (i) => client.run(s.namespaces.flows, kind === "Setup" ? "enroll" : "login", user(first + i)),
            r === 0,
          );
          if (r === 0) [requests, countedFlows] = [mine.requests, mine.completed];
          offset += size;
        }
        for (const [label, side] of [
          ["", ours],
          ["floor: ", floorSide],
        ] as const)
          if (side.failures.first)
            o.log(`c=${c} ${kind} ${label}${side.failures.count} failed, first: ${side.failures.first}`);
        const result: RunResult = {
          kind,
          concurrency: c,
          flows: n,
          failed: ours.failures.count,
          floorFailed: floorSide.failures.count,
          ...(ours.failures.first || floorSide.failures.first
            ? { firstError: ours.failures.first ?? `floor: ${floorSide.failures.first}` }
            : {}),
          perSecond: ours.flows / ours.seconds,
          floorPerSecond: floorSide.flows / floorSide.seconds,
          requests: requests as RequestSummary,
          floorRequests: floorRequests as RequestSummary,
          cpu: perFlowCpu(ours),
          floorCpu: perFlowCpu(floorSide),
          rounds,
          countedFlows,
          load,
        };
        results.push(result);
        o.log(
          `c=${c} ${kind}: ${result.perSecond.toFixed(1)} flows/s vs floor ${result.floorPerSecond.toFixed(1)}/s in ${rounds} round(s); ` +
            `${result.requests.requests.toFixed(1)} requests, ${result.requests.writes.toFixed(1)} writes per flow ` +
            `(floor ${result.floorRequests.requests.toFixed(1)}/${result.floorRequests.writes.toFixed(1)}); ` +
            `CPU per flow: ${cpuLine(result.cpu)} (floor: ${cpuLine(result.floorCpu)}); load ${load}`,
        );
      }
    }
  } finally {
    floor.close();
    client.close();
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
