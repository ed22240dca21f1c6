import { describe, expect, it } from "vitest";
import { Backoff, jittered } from "./backoff.ts";

describe("Backoff", () => {
  it("grows by the factor from the first delay to the cap, adding jitter on top", () => {
    const backoff = new Backoff({ initialMs: 1000, maxMs: 30_000, jitter: 0.1, random: () => 1 });
    const delays = Array.from({ length: 7 }, () => backoff.next());
    expect(delays).toEqual([1100, 2200, 4400, 8800, 17_600, 33_000, 33_000]);
    expect(backoff.attempts()).toBe(7);
  });

  it("as a work queue's limiter: doubles from 5 ms per failure of a key, up to the cap", () => {
    const backoff = new Backoff({ initialMs: 5, maxMs: 100, jitter: 0 });
    const delays = Array.from({ length: 7 }, () => backoff.next("ns/a"));
    expect(delays).toEqual([5, 10, 20, 40, 80, 100, 100]);
    expect(backoff.attempts("ns/a")).toBe(7);
  });

  it("never overflows however many failures a key has", () => {
    const backoff = new Backoff({ initialMs: 5, maxMs: 300_000, jitter: 0 });
    let last = 0;
    for (let i = 0; i < 2000; i++) last = backoff.next("k");
    expect(last).toBe(300_000);
  });

  it("tracks keys independently and reset clears one key only", () => {
    const backoff = new Backoff({ initialMs: 5, jitter: 0 });
    backoff.next("a");
    backoff.next("a");
    backoff.next("b");
    backoff.reset("a");
    expect(backoff.attempts("a")).toBe(0);
    expect(backoff.attempts("b")).toBe(1);
    expect(backoff.attempts()).toBe(0);
    expect(backoff.next("a")).toBe(5);
    expect(backoff.next("b")).toBe(10);
  });

  it("starts over after reset", () => {
    const backoff = new Backoff({ initialMs: 10, jitter: 0 });
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.attempts()).toBe(0);
    expect(backoff.next()).toBe(10);
  });

  it("stays within [delay, delay * (1 + jitter)]", () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 100, jitter: 0.5, random: () => 0.999 });
    const d = backoff.next();
    expect(d).toBeGreaterThanOrEqual(100);
    expect(d).toBeLessThan(150);
  });

  it("rejects nonsensical options", () => {
    expect(() => new Backoff({ initialMs: 0 })).toThrow(RangeError);
    expect(() => new Backoff({ initialMs: 10, maxMs: 5 })).toThrow(/maximum/);
    expect(() => new Backoff({ jitter: 1.5 })).toThrow(/jitter/);
    expect(() => new Backoff({ factor: 0.5 })).toThrow(/factor/);
  });
});

describe("jittered", () => {
  it("adds up to fraction * ms", () => {
    expect(jittered(300_000, 1, () => 0)).toBe(300_000);
    expect(jittered(300_000, 1, () => 0.5)).toBe(450_000);
  });
});
