import { describe, expect, it } from "vitest";
import { FakeClock } from "@emailauth/operator-runtime";
import { LruCache } from "./lru-cache.ts";

const cache = (maxEntries = 3) => {
  const clock = new FakeClock();
  // Allowing answers live 10 s, denying ones 2 s.
  const c = new LruCache<boolean>({ maxEntries, clock, ttlMs: (v) => (v ? 10_000 : 2_000) });
  return { c, clock };
};

describe("LruCache", () => {
  it("keeps denials for less time than grants", () => {
    const { c, clock } = cache();
    c.set("yes", true);
    c.set("no", false);
    clock.advance(2_000);
    expect([c.get("yes"), c.get("no")]).toEqual([true, undefined]);
    clock.advance(8_000);
    expect(c.get("yes")).toBeUndefined();
  });

  it("never holds more than maxEntries, evicting the least recently used", () => {
    const { c } = cache(2);
    c.set("a", true);
    c.set("b", true);
    c.get("a");
    c.set("c", true);
    expect(c.size).toBe(2);
    expect([c.get("a"), c.get("b"), c.get("c")]).toEqual([true, undefined, true]);
  });

  it("drops expired entries from its least recent end as new ones come", () => {
    const { c, clock } = cache(100);
    c.set("no", false);
    c.set("yes", true);
    clock.advance(2_000);
    c.set("new", true);
    expect(c.size).toBe(2);
    clock.advance(8_000);
    c.set("newer", true);
    expect(c.size).toBe(2);
    expect([c.get("new"), c.get("newer")]).toEqual([true, true]);
  });

  it("shares one load between concurrent callers and runs onMiss once", async () => {
    const { c } = cache();
    let loads = 0;
    let misses = 0;
    let release: (v: boolean) => void = () => {};
    const load = () => {
      loads++;
      return new Promise<boolean>((r) => (release = r));
    };
    const waiting = Array.from({ length: 10 }, () => c.getOrLoad("k", load, () => misses++));
    release(true);
    expect(await Promise.all(waiting)).toEqual(Array(10).fill(true));
    expect([loads, misses]).toEqual([1, 1]);
    expect(await c.getOrLoad("k", load, () => misses++)).toBe(true);
    expect([loads, misses]).toEqual([1, 1]);
  });

  it("lets onMiss refuse a load, and does not cache a failed load", async () => {
    const { c } = cache();
    await expect(
      c.getOrLoad(
        "k",
        () => Promise.resolve(true),
        () => {
          throw new Error("limited");
        },
      ),
    ).rejects.toThrow("limited");
    await expect(c.getOrLoad("k", () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(await c.getOrLoad("k", () => Promise.resolve(false))).toBe(false);
  });
});
