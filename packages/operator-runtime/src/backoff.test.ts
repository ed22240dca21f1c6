import { describe, expect, it } from "vitest";
import { Backoff, ExponentialRateLimiter, jittered } from "./backoff.ts";

describe("ExponentialRateLimiter", () => {
  it("doubles from 5 ms per failure of a key, up to the cap", () => {
    const limiter = new ExponentialRateLimiter({ maxMs: 100 });
    const delays = Array.from({ length: 7 }, () => limiter.when("ns/a"));
    expect(delays).toEqual([5, 10, 20, 40, 80, 100, 100]);
    expect(limiter.failures("ns/a")).toBe(7);
  });

  it("defaults to a 5 minute cap and never overflows", () => {
    const limiter = new ExponentialRateLimiter();
    let last = 0;
    for (let i = 0; i < 2000; i++) last = limiter.when("k");
    expect(last).toBe(300_000);
  });

  it("tracks keys independently and forget resets one key only", () => {
    const limiter = new ExponentialRateLimiter();
    limiter.when("a");
    limiter.when("a");
    limiter.when("b");
    limiter.forget("a");
    expect(limiter.failures("a")).toBe(0);
    expect(limiter.failures("b")).toBe(1);
    expect(limiter.when("a")).toBe(5);
    expect(limiter.when("b")).toBe(10);
  });

  it("applies jitter by shortening the delay, never beyond the cap", () => {
    const limiter = new ExponentialRateLimiter({ baseMs: 100, maxMs: 400, jitter: 0.5, random: () => 0.5 });
    expect(limiter.when("k")).toBe(75);
    const top = new ExponentialRateLimiter({ baseMs: 100, maxMs: 100, jitter: 1, random: () => 0.999 });
    expect(top.when("k")).toBeLessThanOrEqual(100);
    expect(top.when("k")).toBeGreaterThan(0);
  });

  it("rejects nonsensical options", () => {
    expect(() => new ExponentialRateLimiter({ baseMs: 0 })).toThrow(RangeError);
    expect(() => new ExponentialRateLimiter({ baseMs: 10, maxMs: 5 })).toThrow(/maximum/);
    expect(() => new ExponentialRateLimiter({ jitter: 1.5 })).toThrow(/jitter/);
  });
});

describe("Backoff", () => {
  it("grows by the factor from the initial delay to the cap, adding jitter on top", () => {
    const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000, jitter: 0.1, random: () => 1 });
    const delays = Array.from({ length: 7 }, () => backoff.next());
    expect(delays).toEqual([1100, 2200, 4400, 8800, 17_600, 33_000, 33_000]);
    expect(backoff.attempts).toBe(7);
  });

  it("starts over after reset", () => {
    const backoff = new Backoff({ initialMs: 10, jitter: 0 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBe(10);
  });

  it("rejects a shrinking factor", () => {
    expect(() => new Backoff({ factor: 0.5 })).toThrow(/factor/);
  });
});

describe("jittered", () => {
  it("adds up to fraction * ms", () => {
    expect(jittered(300_000, 1, () => 0)).toBe(300_000);
    expect(jittered(300_000, 1, () => 0.5)).toBe(450_000);
  });
});
