// A leader that cannot renew stops acting within its renew deadline, before anyone else may
// take over. Needs the API server to go away, so it runs on a control plane of its own.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLogger } from "../../src/log/logger.ts";
import { LeaderElector } from "@emailauth/operator-runtime";
import { ControlPlane, OPERATOR_NAMESPACE } from "../harness/controlplane.ts";
import { loadKubeconfig } from "../harness/kubeconfig.ts";
import { waitFor } from "../harness/wait.ts";
import { KubeClient } from "@emailauth/operator-runtime";

let plane: ControlPlane;
const log = createLogger({ level: "silent" });

beforeAll(async () => {
  plane = await ControlPlane.start();
});

afterAll(async () => {
  await plane?.stop();
});

const until = (what: string, check: () => boolean, timeoutMs = 10_000) =>
  waitFor(() => (check() ? true : undefined), { what, timeoutMs, intervalMs: 25 });

function elector(identity: string, events: string[]): LeaderElector {
  return new LeaderElector({
    kube: new KubeClient(loadKubeconfig(plane.info.operatorKubeconfig)),
    namespace: OPERATOR_NAMESPACE,
    name: "deadline",
    identity,
    log,
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
    retryPeriodMs: 500,
    callbacks: {
      onStartedLeading: (signal) => {
        events.push("started");
        signal.addEventListener("abort", () => events.push("signal aborted"));
      },
      onStoppedLeading: () => events.push("stopped"),
    },
  });
}

it("stops leading within the renew deadline when the API server is unreachable, for good", async () => {
  const events: string[] = [];
  const a = elector("replica-a", events);
  a.start();
  await until("a leads", () => a.isLeader());
  await new Promise((r) => setTimeout(r, 700)); // a renewal or so
  const cutAt = Date.now();
  await plane.stopApiServer();
  await until("a to stop leading", () => !a.isLeader());
  const lostAfterMs = Date.now() - cutAt;
  // The deadline counts from the last successful renewal, at most one retry period before the cut.
  expect(lostAfterMs).toBeGreaterThanOrEqual(2000 - 500 - 100);
  expect(lostAfterMs).toBeLessThan(2000 + 500);
  expect(events).toEqual(["started", "signal aborted", "stopped"]);
  await a.done(); // the elector has ended

  await plane.startApiServer();
  await new Promise((r) => setTimeout(r, 1000));
  expect(a.isLeader()).toBe(false); // no comeback: the process is expected to restart
  // The lease it could no longer renew expires normally and another replica takes over.
  const bEvents: string[] = [];
  const b = elector("replica-b", bEvents);
  b.start();
  await until("b leads", () => b.isLeader(), 15_000);
  await b.stop();
  await a.stop();
  expect(bEvents).toEqual(["started", "signal aborted", "stopped"]);
});
