// The elector's behaviour against a real API server is in test/integration/leader.test.ts;
// here only what needs no server: its configuration rules.
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { KubeClient } from "./kube-client.ts";
import { LeaderElector } from "./leader.ts";
import type { LeaderElectorOptions } from "./leader.ts";

const kube = new KubeClient({
  getCurrentCluster: () => ({ server: "https://127.0.0.1:1" }),
  getCurrentUser: () => ({ token: "t" }),
});

const options = (o: Partial<LeaderElectorOptions> = {}): LeaderElectorOptions => ({
  kube,
  namespace: "ns",
  name: "lease",
  identity: "a",
  callbacks: { onStartedLeading: () => {} },
  log: pino({ level: "silent" }),
  ...o,
});

describe("LeaderElector configuration", () => {
  it("defaults to client-go's 15 s / 10 s / 2 s and is not leader before starting", () => {
    const elector = new LeaderElector(options());
    expect(elector.isLeader()).toBe(false);
    expect(elector.leader()).toBe("");
  });

  it("refuses timings that would let two replicas lead at once or retry too late", () => {
    expect(() => new LeaderElector(options({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }))).toThrow(
      /leaseDurationMs/,
    );
    expect(() => new LeaderElector(options({ renewDeadlineMs: 2_400, retryPeriodMs: 2_000 }))).toThrow(
      /renewDeadlineMs/,
    );
    expect(() => new LeaderElector(options({ retryPeriodMs: 0 }))).toThrow(/retryPeriodMs/);
    expect(() => new LeaderElector(options({ identity: "" }))).toThrow(/identity/);
  });

  it("cannot be started after it was stopped", async () => {
    const elector = new LeaderElector(options());
    await elector.stop();
    expect(() => elector.start()).toThrow(/stopped/);
  });
});
