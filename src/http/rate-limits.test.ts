import { describe, expect, it } from "vitest";
import { FakeClock } from "@emailauth/operator-runtime";
import { Problem } from "./problems.ts";
import { BlockList } from "node:net";
import { clientAddress, clientKey, RateLimits, type RateLimitScope } from "./rate-limits.ts";

const limits = () => {
  const clock = new FakeClock();
  const limited: RateLimitScope[] = [];
  const l = new RateLimits({
    perAddress: { perSecond: 1, burst: 2 },
    perExecution: { perSecond: 1, burst: 3 },
    unauthenticated: { perSecond: 1, burst: 2 },
    clock,
    metrics: { onRateLimited: (s) => limited.push(s) },
  });
  return { l, clock, limited };
};

/** The Problem a call throws, or undefined when it passes. */
function problemOf(fn: () => void): Problem | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    if (e instanceof Problem) return e;
    throw e;
  }
}

describe("RateLimits", () => {
  it("charges unknown execution ids to the global budget, known ones only to their own", () => {
    const { l, limited } = limits();
    expect(problemOf(() => l.execution("a"))).toBeUndefined();
    expect(problemOf(() => l.execution("b"))).toBeUndefined();
    const refused = problemOf(() => l.execution("c"));
    expect(refused).toMatchObject({ code: "rate_limited", status: 429, retryAfter: 1 });
    expect(refused?.message).toBe("too many requests (needing verification); retry after 1 s");
    expect(limited).toEqual(["unauthenticated"]);
    // "a" exists: it no longer needs the exhausted global budget, only its own.
    l.knownExecution("a");
    expect(problemOf(() => l.execution("a"))).toBeUndefined();
    expect(problemOf(() => l.execution("a"))).toBeUndefined();
    expect(problemOf(() => l.execution("a"))).toMatchObject({ code: "rate_limited" });
    expect(limited).toEqual(["unauthenticated", "execution"]);
  });

  it("keeps a separate execution budget per credential, so a stranger cannot use up the user's", () => {
    const { l } = limits();
    l.knownExecution("a");
    for (let i = 0; i < 3; i++) l.execution("a", "Bearer stranger");
    expect(problemOf(() => l.execution("a", "Bearer stranger"))).toMatchObject({ code: "rate_limited" });
    expect(problemOf(() => l.execution("a", "Bearer eaox_user"))).toBeUndefined();
  });

  it("remembers ids whose answers show they exist, not those refused before the lookup", async () => {
    const { l } = limits();
    await expect(l.forExecution("gone", "", () => Promise.reject(new Problem("not_found", "no")))).rejects.toThrow();
    await expect(l.forExecution("x", "", () => Promise.reject(new Problem("invalid_code", "no")))).rejects.toThrow();
    // The global budget (2) is spent; only "x" is known and still passes.
    expect(problemOf(() => l.execution("gone"))).toMatchObject({ code: "rate_limited" });
    expect(problemOf(() => l.execution("x"))).toBeUndefined();
  });

  it("refills with time and says when, rounded up to whole seconds", () => {
    const { l, clock } = limits();
    l.unauthenticatedWork();
    l.unauthenticatedWork();
    expect(problemOf(() => l.unauthenticatedWork())?.retryAfter).toBe(1);
    clock.advance(1_000);
    expect(problemOf(() => l.unauthenticatedWork())).toBeUndefined();
  });

  it("limits per client address in its middleware", () => {
    const { l, limited } = limits();
    const request = (ip: string) => {
      let passed = false;
      const answered: { status?: number; body?: string; headers?: Record<string, string> } = {};
      const res = {
        locals: {},
        status(n: number) {
          answered.status = n;
          return this;
        },
        set(h: Record<string, string>) {
          answered.headers = h;
          return this;
        },
        type() {
          return this;
        },
        send(body: string) {
          answered.body = body;
        },
      };
      l.perAddress({ socket: { remoteAddress: ip }, get: () => undefined, path: "/x" } as never, res as never, () => {
        passed = true;
      });
      // Counted once per request, even when mounted twice.
      l.perAddress(
        { socket: { remoteAddress: ip }, get: () => undefined, path: "/x" } as never,
        res as never,
        () => undefined,
      );
      if (passed) return true;
      expect(answered.status).toBe(429);
      expect(answered.headers?.["Retry-After"]).toBe("1");
      return (JSON.parse(answered.body ?? "{}") as { code: string }).code;
    };
    expect([request("10.0.0.1"), request("10.0.0.1"), request("10.0.0.1")]).toEqual([true, true, "rate_limited"]);
    expect(request("10.0.0.2")).toBe(true);
    // One IPv6 /64 is one client.
    expect([request("2001:db8::1"), request("2001:db8:0:0:ffff::2"), request("2001:db8::3")]).toEqual([
      true,
      true,
      "rate_limited",
    ]);
    expect(limited).toEqual(["address", "address"]);
  });
});

describe("clientAddress", () => {
  const proxies = new BlockList();
  proxies.addSubnet("10.0.0.0", 8, "ipv4");
  it("believes X-Forwarded-For only from trusted proxies, hop by hop from the right", () => {
    expect(clientAddress("203.0.113.9", "198.51.100.1", proxies)).toBe("203.0.113.9");
    expect(clientAddress("10.1.1.1", "198.51.100.1", proxies)).toBe("198.51.100.1");
    expect(clientAddress("::ffff:10.1.1.1", "192.0.2.5, 10.2.2.2", proxies)).toBe("192.0.2.5");
    // A client cannot prepend its own choice past an untrusted hop.
    expect(clientAddress("10.1.1.1", "1.2.3.4, 198.51.100.1", proxies)).toBe("198.51.100.1");
    expect(clientAddress("10.1.1.1", "garbage", proxies)).toBe("10.1.1.1");
    expect(clientAddress("10.1.1.1", undefined, proxies)).toBe("10.1.1.1");
  });
});

describe("clientKey", () => {
  it("keys IPv4 by address, IPv4-mapped IPv6 as IPv4, IPv6 by its /64", () => {
    expect(clientKey("192.0.2.7")).toBe("192.0.2.7");
    expect(clientKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
    expect(clientKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:0db8:0001:0002::9")).toBe("2001:db8:1:2::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("fe80::1")).toBe("fe80:0:0:0::/64");
  });
});
