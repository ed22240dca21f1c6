import { describe, expect, it } from "vitest";
import { FakeClock } from "@emailauth/operator-runtime";
import { BucketSet, take } from "./token-bucket.ts";

describe("take", () => {
  it("allows the burst at once, then refills at the rate and says when the next token comes", () => {
    const clock = new FakeClock(new Date("2026-01-01T00:00:00Z"));
    const rate = { perSecond: 2, burst: 3 };
    const state = { tokens: 3, at: clock.now().getTime() };
    const now = () => clock.now().getTime();
    expect([take(state, rate, now()), take(state, rate, now()), take(state, rate, now())]).toEqual([
      { ok: true },
      { ok: true },
      { ok: true },
    ]);
    expect(take(state, rate, now())).toEqual({ ok: false, retryAfterMs: 500 });
    clock.advance(250);
    expect(take(state, rate, now())).toEqual({ ok: false, retryAfterMs: 250 });
    clock.advance(250);
    expect(take(state, rate, now())).toEqual({ ok: true });
    // A long pause refills only up to the burst.
    clock.advance(60_000);
    const results = Array.from({ length: 5 }, () => take(state, rate, now()).ok);
    expect(results).toEqual([true, true, true, false, false]);
  });

  it("does not refill when the clock goes backwards", () => {
    const rate = { perSecond: 1, burst: 1 };
    const state = { tokens: 1, at: 10_000 };
    expect(take(state, rate, 10_000).ok).toBe(true);
    expect(take(state, rate, 5_000).ok).toBe(false);
    expect(take(state, rate, 10_999).ok).toBe(false);
    expect(take(state, rate, 11_000).ok).toBe(true);
  });
});

describe("BucketSet", () => {
  it("keeps one bucket per key", () => {
    const set = new BucketSet({ perSecond: 1, burst: 2 });
    expect([set.take("a", 0).ok, set.take("a", 0).ok, set.take("a", 0).ok]).toEqual([true, true, false]);
    expect(set.take("b", 0).ok).toBe(true);
  });

  it("holds at most maxKeys buckets, dropping the least recently used", () => {
    const set = new BucketSet({ perSecond: 1, burst: 1 }, 2);
    set.take("a", 0);
    set.take("b", 0);
    set.take("a", 0); // a is now the most recent (and empty)
    set.take("c", 0); // evicts b
    expect(set.size).toBe(2);
    expect(set.take("a", 0).ok).toBe(false); // a kept its state
    expect(set.take("b", 0).ok).toBe(true); // b starts full again
  });

  it("forgets buckets that have refilled, so idle keys cost nothing", () => {
    const set = new BucketSet({ perSecond: 1, burst: 2 });
    set.take("a", 0);
    set.take("b", 500);
    expect(set.size).toBe(2);
    set.take("c", 1_000); // a is full again at 1 s, b not until 1.5 s
    expect(set.size).toBe(2);
    set.take("c", 1_600); // b full too
    expect(set.size).toBe(1);
    expect([set.take("a", 1_600).ok, set.take("a", 1_600).ok, set.take("a", 1_600).ok]).toEqual([true, true, false]);
  });

  it("refuses nonsense rates", () => {
    expect(() => new BucketSet({ perSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new BucketSet({ perSecond: 1, burst: 0 })).toThrow(RangeError);
  });
});
