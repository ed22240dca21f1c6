import { describe, expect, it } from "vitest";
import { inWindow, retryAtOf, throttleName } from "./throttle.ts";

const key = Buffer.alloc(32, 2);
const now = new Date("2026-01-02T00:00:00Z");
const HOUR = 3_600_000;
const at = (msAgo: number) => new Date(now.getTime() - msAgo).toISOString();

describe("throttleName", () => {
  it("is eao-t- and 32 hex characters that reveal nothing of the identity", () => {
    const name = throttleName(key, ["failures", "ns", "relay", "alice@example.com"]);
    expect(name).toMatch(/^eao-t-[0-9a-f]{32}$/);
    expect(name).not.toContain("alice");
    expect(throttleName(key, ["failures", "ns", "relay", "alice@example.com"])).toBe(name);
  });

  it("differs per key, counter and identity, and parts cannot run into each other", () => {
    const names = [
      throttleName(key, ["failures", "ns", "relay", "u1"]),
      throttleName(Buffer.alloc(32, 3), ["failures", "ns", "relay", "u1"]),
      throttleName(key, ["sends", "ns", "relay", "u1"]),
      throttleName(key, ["failures", "ns", "relay", "u2"]),
      throttleName(key, ["failures", "ns", "rela", "yu1"]),
      throttleName(key, ["failures", "ns2", "relay", "u1"]),
    ];
    expect(new Set(names).size).toBe(names.length);
  });
});

describe("inWindow", () => {
  it("keeps entries newer than the window start, sorted, and drops unreadable ones", () => {
    const entries = [at(HOUR), at(24 * HOUR), at(24 * HOUR - 1), "garbage", at(0), at(2 * HOUR)];
    expect(inWindow(entries, now, 24 * HOUR)).toEqual([
      now.getTime() - 24 * HOUR + 1,
      now.getTime() - 2 * HOUR,
      now.getTime() - HOUR,
      now.getTime(),
    ]);
    expect(inWindow(entries, now, HOUR)).toEqual([now.getTime()]);
  });
});

describe("retryAtOf", () => {
  const t = (h: number) => now.getTime() - h * HOUR;

  it("is undefined below the limit", () => {
    expect(retryAtOf([t(3), t(2)], 24 * HOUR, 3)).toBeUndefined();
  });

  it("is when the count drops below the limit again", () => {
    expect(retryAtOf([t(3), t(2), t(1)], 24 * HOUR, 3)).toEqual(new Date(t(3) + 24 * HOUR));
    // Five counted, limit three: three must leave, so the third oldest decides.
    expect(retryAtOf([t(5), t(4), t(3), t(2), t(1)], 24 * HOUR, 3)).toEqual(new Date(t(3) + 24 * HOUR));
  });
});
