// The sweeper's schedule on a fake clock: a round per interval over every namespace, one
// namespace failing does not stop the others, stop() cancels what is pending. What a round
// deletes is expired.test.ts and the integration test on the real API server.
import { FakeClock } from "@emailauth/operator-runtime";
import type { CoreV1Api } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { Sweeper } from "./sweeper.ts";

describe("Sweeper", () => {
  it("sweeps every namespace once per interval, past a failing one, until stopped", async () => {
    const clock = new FakeClock(new Date("2026-01-01T00:00:00Z"));
    const rounds: string[] = [];
    let namespaces = ["a", "broken", "b"];
    const sweeper = new Sweeper({
      core: {} as CoreV1Api,
      namespaces: () => namespaces,
      clock,
      log: pino({ level: "silent" }),
      intervalMs: 60_000,
      batchSize: 7,
      sweepNamespace: (ns, now, max) => {
        rounds.push(`${ns}@${now.toISOString().slice(11, 19)}/${max}`);
        return ns === "broken" ? Promise.reject(new Error("forbidden")) : Promise.resolve(2);
      },
    });
    sweeper.start();
    clock.advance(59_999);
    expect(rounds).toEqual([]);
    clock.advance(1);
    await new Promise((r) => setImmediate(r));
    expect(rounds).toEqual(["a@00:01:00/7", "broken@00:01:00/7", "b@00:01:00/7"]);

    namespaces = ["b"];
    clock.advance(60_000);
    await new Promise((r) => setImmediate(r));
    expect(rounds.slice(3)).toEqual(["b@00:02:00/7"]);

    await sweeper.stop();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(600_000);
    expect(rounds).toHaveLength(4);
  });

  it("reports how many Secrets a round deleted", async () => {
    const sweeper = new Sweeper({
      core: {} as CoreV1Api,
      namespaces: () => ["a", "b"],
      clock: new FakeClock(),
      log: pino({ level: "silent" }),
      sweepNamespace: () => Promise.resolve(3),
    });
    expect(await sweeper.sweep()).toBe(6);
  });
});
