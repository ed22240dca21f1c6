// The sweeper's schedule on a fake clock: a round per interval in the operator's namespace, a
// failing round does not stop the next, stop() cancels what is pending. What a round deletes is
// expired.test.ts and the integration test on the real API server.
import { FakeClock } from "@emailauth/operator-runtime";
import type { CoreApi } from "@emailauth/operator-runtime";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { Sweeper } from "./sweeper.ts";

describe("Sweeper", () => {
  it("sweeps the operator's namespace once per interval, past a failing round, until stopped", async () => {
    const clock = new FakeClock(new Date("2026-01-01T00:00:00Z"));
    const rounds: string[] = [];
    let fail = true;
    const sweeper = new Sweeper({
      core: {} as CoreApi,
      namespace: "ops",
      clock,
      log: pino({ level: "silent" }),
      intervalMs: 60_000,
      batchSize: 7,
      sweepNamespace: (ns, now, max) => {
        rounds.push(`${ns}@${now.toISOString().slice(11, 19)}/${max}`);
        return fail ? Promise.reject(new Error("forbidden")) : Promise.resolve(2);
      },
    });
    sweeper.start();
    clock.advance(59_999);
    expect(rounds).toEqual([]);
    clock.advance(1);
    await new Promise((r) => setImmediate(r));
    expect(rounds).toEqual(["ops@00:01:00/7"]);

    fail = false;
    clock.advance(60_000);
    await new Promise((r) => setImmediate(r));
    expect(rounds.slice(1)).toEqual(["ops@00:02:00/7"]);

    await sweeper.stop();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(600_000);
    expect(rounds).toHaveLength(2);
  });

  it("comes back after a tenth of the interval while rounds delete full batches", async () => {
    const clock = new FakeClock(new Date("2026-01-01T00:00:00Z"));
    const rounds: string[] = [];
    const backlog = [7, 7, 3, 7];
    const sweeper = new Sweeper({
      core: {} as CoreApi,
      namespace: "ops",
      clock,
      log: pino({ level: "silent" }),
      intervalMs: 60_000,
      batchSize: 7,
      sweepNamespace: (_ns, now) => {
        rounds.push(now.toISOString().slice(11, 19));
        return Promise.resolve(backlog.shift() ?? 0);
      },
    });
    sweeper.start();
    const settle = () => new Promise((r) => setImmediate(r));
    for (const ms of [60_000, 6_000, 6_000, 6_000, 54_000]) {
      clock.advance(ms);
      await settle();
    }
    // Full, full (6 s later each), then 3 of 7: back to the interval, where the next full round waits.
    expect(rounds).toEqual(["00:01:00", "00:01:06", "00:01:12", "00:02:12"]);
    await sweeper.stop();
  });

  it("lists every expiring Secret first and hourly, the due expiry buckets in between", async () => {
    const clock = new FakeClock(new Date("2026-01-01T00:00:00Z"));
    const selectors: string[] = [];
    /** A sweeper whose rounds record which list they made and answer with `round(n)`. */
    const recording = (round: (n: number) => Promise<number>) =>
      new Sweeper({
        core: {} as CoreApi,
        namespace: "ops",
        clock,
        log: pino({ level: "silent" }),
        batchSize: 2,
        sweepNamespace: (_ns, _now, _max, selector) => {
          selectors.push(selector.includes("expires-bucket in (") ? "due" : "all");
          return round(selectors.length);
        },
      });
    const deletes = [2, 2, 0];
    const sweeper = recording(() => Promise.resolve(deletes.shift() ?? 0));
    for (let i = 0; i < 4; i++) await sweeper.sweep();
    // Full batches keep the full list going until it comes up short; then only due buckets.
    expect(selectors).toEqual(["all", "all", "all", "due"]);
    clock.advance(59 * 60_000);
    await sweeper.sweep();
    clock.advance(60_000);
    await sweeper.sweep();
    expect(selectors.slice(4)).toEqual(["due", "all"]);
    // A failed full list is tried again next round.
    const failing = recording((n) => (n === 7 ? Promise.reject(new Error("timeout")) : Promise.resolve(0)));
    for (let i = 0; i < 3; i++) await failing.sweep();
    expect(selectors.slice(6)).toEqual(["all", "all", "due"]);
  });

  it("reports how many Secrets a round deleted, and none for a failed round", async () => {
    const sweeper = (sweepNamespace: () => Promise<number>) =>
      new Sweeper({
        core: {} as CoreApi,
        namespace: "ops",
        clock: new FakeClock(),
        log: pino({ level: "silent" }),
        sweepNamespace,
      });
    expect(await sweeper(() => Promise.resolve(3)).sweep()).toBe(3);
    expect(await sweeper(() => Promise.reject(new Error("forbidden"))).sweep()).toBe(0);
  });
});
