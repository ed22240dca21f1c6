import { type CoreApi, FakeClock, KubeApiError, type Secret } from "@emailauth/operator-runtime";
import { describe, expect, it } from "vitest";
import { inWindow, retryAtOf, throttleName, Throttles } from "./throttle.ts";

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

/**
 * Counters in memory, with a watch cache that shows them as they were at the last `snapshot()`:
 * a list with resourceVersion "0" reads the cache, any other the store; writes are guarded as the
 * API server guards them.
 */
class LaggingCounters {
  readonly store = new Map<string, Secret>();
  cache = new Map<string, Secret>();
  readonly reads: ("cached" | "fresh")[] = [];
  #version = 1;

  snapshot(): void {
    this.cache = new Map(this.store);
  }

  readonly core = {
    listNamespacedSecret: (p: { fieldSelector?: string; resourceVersion?: string }) => {
      const name = p.fieldSelector?.replace("metadata.name=", "") ?? "";
      this.reads.push(p.resourceVersion === "0" ? "cached" : "fresh");
      const item = (p.resourceVersion === "0" ? this.cache : this.store).get(name);
      return Promise.resolve({ items: item ? [item] : [] });
    },
    createNamespacedSecret: (p: { body: Secret }) => {
      const name = p.body.metadata?.name ?? "";
      if (this.store.has(name))
        return Promise.reject(new KubeApiError(409, "exists", { kind: "Status", reason: "AlreadyExists" }));
      return Promise.resolve(this.#save(name, p.body));
    },
    replaceNamespacedSecret: (p: { name: string; body: Secret }) => {
      if (this.store.get(p.name)?.metadata?.resourceVersion !== p.body.metadata?.resourceVersion)
        return Promise.reject(new KubeApiError(409, "conflict", { kind: "Status", reason: "Conflict" }));
      return Promise.resolve(this.#save(p.name, p.body));
    },
    deleteNamespacedSecret: (p: { name: string }) => {
      this.store.delete(p.name);
      return Promise.resolve({});
    },
  };

  #save(name: string, body: Secret): Secret {
    const saved = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.#version) } };
    this.store.set(name, saved);
    return saved;
  }
}

describe("Throttles reading from the API server's watch cache", () => {
  const clock = new FakeClock(now);
  const who = { namespace: "ns", stage: "relay", userId: "u1" };
  const throttles = (fake: LaggingCounters, remembered = 1024) =>
    new Throttles(fake.core as unknown as CoreApi, clock, key, { namespace: "op", remembered, pause: async () => {} });

  it("starts a write from the cache, and a write the cache misled is refused and retried from a fresh read", async () => {
    const fake = new LaggingCounters();
    const a = throttles(fake, 0);
    expect((await a.reserveFailure(who, 3)).ok).toBe(true);
    expect(fake.reads).toEqual(["cached"]);
    // The cache still shows no counter: the create is refused (it exists), the fresh read finds it.
    expect(await a.reserveFailure(who, 3)).toMatchObject({ ok: true, count: 2 });
    expect(fake.reads).toEqual(["cached", "cached", "fresh"]);
  });

  it("never refuses on what the cache shows: a full budget there is checked again from a fresh read", async () => {
    const fake = new LaggingCounters();
    const a = throttles(fake, 0);
    const slots = [];
    for (let i = 0; i < 3; i++) {
      const r = await a.reserveFailure(who, 3);
      if (r.ok) slots.push(r.slot);
    }
    fake.snapshot(); // the cache shows the budget full
    for (const slot of slots) await a.release(slot); // another replica's slots given back
    fake.reads.length = 0;
    expect(await a.reserveFailure(who, 3)).toMatchObject({ ok: true, count: 1 });
    expect(fake.reads).toEqual(["cached", "fresh"]);
  });

  it("refuses from a fresh read when the budget really is used up", async () => {
    const fake = new LaggingCounters();
    const a = throttles(fake, 0);
    for (let i = 0; i < 3; i++) expect((await a.reserveFailure(who, 3)).ok).toBe(true);
    fake.snapshot();
    fake.reads.length = 0;
    expect(await a.reserveFailure(who, 3)).toMatchObject({ ok: false, own: 0 });
    expect(fake.reads).toEqual(["cached", "fresh"]);
  });

  it("labels a counter with the bucket of its expiry, which moves with its newest entry", async () => {
    const fake = new LaggingCounters();
    const a = throttles(fake, 0);
    const counter = () => [...fake.store.values()][0]?.metadata;
    expect((await a.reserveFailure(who, 3)).ok).toBe(true);
    // The failures window is a day: due 2026-01-03T00:00Z.
    expect(counter()?.annotations?.["emailauth.dev/expires-at"]).toBe("2026-01-03T00:00:00.000Z");
    expect(counter()?.labels?.["emailauth.dev/expires-bucket"]).toBe("202601030000");
    clock.advance(HOUR);
    expect((await a.reserveFailure(who, 3)).ok).toBe(true);
    expect(counter()?.labels?.["emailauth.dev/expires-bucket"]).toBe("202601030100");
  });
});
