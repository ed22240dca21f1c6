// Ties the Lease elector to the operator: leading starts the controllers; losing the lease
// (not stepping down) stops them and ends the process, as controller-runtime does, so a
// replica that may have missed events starts over from a clean cache.
import type { Logger } from "pino";
import type { OperatorConfig } from "../config/config.ts";
import { type KubeClient, LeaderElector } from "@emailauth/operator-runtime";
import type { Operator } from "./operator.ts";

export interface LeadershipOptions {
  kube: KubeClient;
  config: OperatorConfig["leaderElection"];
  log: Logger;
  operator: Operator;
  onLost: () => void;
}

export function startLeaderElection(o: LeadershipOptions): { release: () => Promise<void> } {
  let steppingDown = false;
  const elector = new LeaderElector({
    kube: o.kube,
    namespace: o.config.leaseNamespace,
    name: o.config.leaseName,
    identity: o.config.identity,
    log: o.log,
    leaseDurationMs: o.config.leaseDurationMs,
    renewDeadlineMs: o.config.renewDeadlineMs,
    retryPeriodMs: o.config.retryPeriodMs,
    callbacks: {
      onStartedLeading: () => o.operator.startLeading(),
      onStoppedLeading: async () => {
        await o.operator.stopLeading();
        if (!steppingDown) o.onLost();
      },
      onNewLeader: (identity) => o.log.info({ leader: identity }, "leader observed"),
    },
  });
  elector.start();
  return {
    release: async () => {
      steppingDown = true;
      await elector.stop({ release: true });
    },
  };
}
