// Leader election against the real API server, as the operator's least-privilege identity in
// its own namespace (the only place its Role allows Leases). Short timings: lease 3 s, renew
// deadline 2 s, retry 0.5 s. Each test uses a Lease of its own.
import { randomBytes } from "node:crypto";
import { CoordinationV1Api } from "@kubernetes/client-node";
import type { KubeConfig } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log/logger.ts";
import { LeaderElector } from "@emailauth/operator-runtime";
import { OPERATOR_NAMESPACE } from "../harness/controlplane.ts";
import { controlPlane } from "../harness/context.ts";
import { waitFor } from "../harness/wait.ts";
import { KubeClient } from "@emailauth/operator-runtime";

const plane = controlPlane();
const operator = plane.operator();
const leases = plane.admin().makeApiClient(CoordinationV1Api);
const log = createLogger({ level: "silent" });
const TIMING = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
const running: LeaderElector[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((e) => e.stop()));
});

interface Candidate {
  elector: LeaderElector;
  events: string[];
  signals: AbortSignal[];
}

function candidate(identity: string, lease: string, kc: KubeConfig = operator): Candidate {
  const events: string[] = [];
  const signals: AbortSignal[] = [];
  const elector = new LeaderElector({
    kube: new KubeClient(kc),
    namespace: OPERATOR_NAMESPACE,
    name: lease,
    identity,
    log,
    ...TIMING,
    callbacks: {
      onStartedLeading: (signal) => {
        signals.push(signal);
        events.push("started");
      },
      onStoppedLeading: () => events.push("stopped"),
      onNewLeader: (id) => events.push(`leader ${id}`),
    },
  });
  running.push(elector);
  elector.start();
  return { elector, events, signals };
}

const leaseName = (what: string) => `${what}-${randomBytes(3).toString("hex")}`;
const until = (what: string, check: () => boolean, timeoutMs = 10_000) =>
  waitFor(() => (check() ? true : undefined), { what, timeoutMs, intervalMs: 25 });
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const readLease = (name: string) => leases.readNamespacedLease({ name, namespace: OPERATOR_NAMESPACE });

describe("leader election on a Lease", () => {
  it("lets exactly one of two candidates lead, and keeps renewing", async () => {
    const lease = leaseName("two");
    const a = candidate("replica-a", lease);
    const b = candidate("replica-b", lease);
    await until("a leader", () => a.elector.isLeader() || b.elector.isLeader());
    const [leader, other] = a.elector.isLeader() ? [a, b] : [b, a];
    const firstRenew = new Date(String((await readLease(lease)).spec?.renewTime)).getTime();
    // Two lease durations: never both, never neither.
    for (let i = 0; i < 60; i++) {
      expect([a.elector.isLeader(), b.elector.isLeader()].filter(Boolean)).toHaveLength(1);
      await pause(100);
    }
    expect(leader.events).toEqual([`leader ${leader.elector.identity}`, "started"]);
    expect(other.events).toEqual([`leader ${leader.elector.identity}`]);
    expect(other.elector.leader()).toBe(leader.elector.identity);
    const stored = await readLease(lease);
    expect(stored.spec?.holderIdentity).toBe(leader.elector.identity);
    expect(stored.spec?.leaseDurationSeconds).toBe(3);
    expect(stored.spec?.leaseTransitions).toBe(0);
    expect(new Date(String(stored.spec?.renewTime)).getTime()).toBeGreaterThan(firstRenew);
  });

  it("hands over after the lease duration when the leader stops without releasing", async () => {
    const lease = leaseName("expire");
    const a = candidate("replica-a", lease);
    await until("a leads", () => a.elector.isLeader());
    const b = candidate("replica-b", lease);
    await pause(1000);
    expect(b.elector.isLeader()).toBe(false);
    const stoppedAt = Date.now();
    await a.elector.stop({ release: false }); // as if the process had died
    expect(a.events).toEqual(["leader replica-a", "started", "stopped"]);
    expect(a.signals[0]?.aborted).toBe(true);
    expect((await readLease(lease)).spec?.holderIdentity).toBe("replica-a");
    await until("b leads", () => b.elector.isLeader());
    const takeoverMs = Date.now() - stoppedAt;
    // b must wait out a full lease duration from its last sight of a renewal, and no longer
    // than that plus one jittered retry period and some scheduling slack.
    expect(takeoverMs).toBeGreaterThanOrEqual(2000);
    expect(takeoverMs).toBeLessThan(3000 + 1100 + 1000);
    expect((await readLease(lease)).spec).toMatchObject({ holderIdentity: "replica-b", leaseTransitions: 1 });
  });

  it("hands over promptly when the leader releases the lease", async () => {
    const lease = leaseName("release");
    const a = candidate("replica-a", lease);
    await until("a leads", () => a.elector.isLeader());
    const b = candidate("replica-b", lease);
    await pause(700);
    const stoppedAt = Date.now();
    await a.elector.stop();
    await until("b leads", () => b.elector.isLeader());
    const takeoverMs = Date.now() - stoppedAt;
    expect(takeoverMs).toBeLessThan(1500); // one jittered retry period, far below the 3 s lease
    expect(a.events).toEqual(["leader replica-a", "started", "stopped"]);
    expect(b.events).toEqual(["leader replica-a", "leader replica-b", "started"]);
    expect((await readLease(lease)).spec).toMatchObject({ holderIdentity: "replica-b", leaseTransitions: 1 });
  });

  it("does not let a third identity steal a lease that is being renewed", async () => {
    const lease = leaseName("steal");
    const a = candidate("replica-a", lease);
    await until("a leads", () => a.elector.isLeader());
    const c = candidate("intruder", lease);
    for (let i = 0; i < 20; i++) {
      await pause(350); // 7 s: more than two lease durations
      expect(c.elector.isLeader()).toBe(false);
      expect(a.elector.isLeader()).toBe(true);
    }
    expect(c.elector.leader()).toBe("replica-a");
    expect(c.events).toEqual(["leader replica-a"]);
  });

  it("stops leading at once when the Lease is taken over behind its back", async () => {
    const lease = leaseName("taken");
    const a = candidate("replica-a", lease);
    await until("a leads", () => a.elector.isLeader());
    // An administrator (or a buggy replica) overwrites the holder.
    const current = await readLease(lease);
    await leases.replaceNamespacedLease({
      name: lease,
      namespace: OPERATOR_NAMESPACE,
      body: { ...current, spec: { ...current.spec, holderIdentity: "someone-else", leaseTransitions: 7 } },
    });
    await until("a stops leading", () => !a.elector.isLeader(), 3000);
    expect(a.events).toEqual(["leader replica-a", "started", "leader someone-else", "stopped"]);
    expect(a.signals[0]?.aborted).toBe(true);
    await a.elector.done(); // losing leadership ends the elector
    await a.elector.stop();
    expect((await readLease(lease)).spec?.holderIdentity).toBe("someone-else"); // not released: not ours
  });
});
