import { describe, expect, it } from "vitest";
import { Backoff } from "./backoff.ts";
import { FakeClock } from "./clock.ts";
import { WorkQueue } from "./workqueue.ts";

const PENDING = Symbol("pending");

/** The value of `p` if it has settled once pending callbacks ran, else PENDING. */
async function peek<T>(p: Promise<T>): Promise<T | typeof PENDING> {
  await new Promise((resolve) => setImmediate(resolve));
  return Promise.race([p, Promise.resolve(PENDING)]);
}

function setup() {
  const clock = new FakeClock();
  const depths: number[] = [];
  const queue = new WorkQueue({
    clock,
    backoff: new Backoff({ initialMs: 5, maxMs: 1000, jitter: 0 }),
    onDepthChange: (d) => depths.push(d),
  });
  return { clock, queue, depths };
}

describe("WorkQueue basics", () => {
  it("collapses duplicates and hands keys out first in, first out", async () => {
    const { queue } = setup();
    queue.add("ns/a");
    queue.add("ns/b");
    queue.add("ns/a");
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe("ns/a");
    expect(await queue.get()).toBe("ns/b");
    expect(queue.len()).toBe(0);
  });

  it("makes get() wait until a key is added", async () => {
    const { queue } = setup();
    const next = queue.get();
    expect(await peek(next)).toBe(PENDING);
    queue.add("ns/a");
    expect(await next).toBe("ns/a");
    expect(queue.len()).toBe(0);
  });

  it("serves waiting getters in the order they asked", async () => {
    const { queue } = setup();
    const first = queue.get();
    const second = queue.get();
    queue.add("x");
    queue.add("y");
    expect([await first, await second]).toEqual(["x", "y"]);
  });

  it("reports depth changes", async () => {
    const { queue, depths } = setup();
    queue.add("a");
    queue.add("b");
    await queue.get();
    expect(depths).toEqual([1, 2, 1]);
  });
});

describe("WorkQueue: one worker per key", () => {
  it("does not hand out a key that is being processed, and re-queues it once on done", async () => {
    const { queue } = setup();
    queue.add("k");
    expect(await queue.get()).toBe("k");
    queue.add("k");
    queue.add("k");
    expect(queue.len()).toBe(0);
    const other = queue.get();
    expect(await peek(other)).toBe(PENDING);
    queue.done("k");
    expect(await other).toBe("k");
    queue.done("k");
    expect(queue.len()).toBe(0);
    expect(await peek(queue.get())).toBe(PENDING);
  });

  it("keeps other keys flowing while one is processed", async () => {
    const { queue } = setup();
    queue.add("a");
    await queue.get();
    queue.add("a");
    queue.add("b");
    expect(await queue.get()).toBe("b");
  });

  it("ignores done() for a key that is not being processed", async () => {
    const { queue } = setup();
    queue.add("a");
    queue.done("a");
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe("a");
  });

  it("never gives one key to two workers and never loses an add (randomised)", async () => {
    const { queue } = setup();
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const keys = ["a", "b", "c", "d"];
    const active = new Set<string>();
    const lastAdd = new Map<string, number>();
    const lastStart = new Map<string, number>();
    let step = 0;
    let addsWhileActive = 0;
    const yieldTimes = async (n: number) => {
      for (let i = 0; i < n; i++) await Promise.resolve();
    };
    const worker = async () => {
      for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
        expect(active.has(key)).toBe(false);
        active.add(key);
        lastStart.set(key, step++);
        await yieldTimes(rand(5));
        active.delete(key);
        queue.done(key);
      }
    };
    const workers = [worker(), worker(), worker()];
    for (let i = 0; i < 500; i++) {
      const key = keys[rand(keys.length)] ?? "a";
      lastAdd.set(key, step++);
      if (active.has(key)) addsWhileActive++;
      queue.add(key);
      await yieldTimes(rand(3));
    }
    // Let every pending add run to completion before stopping.
    while (queue.len() > 0 || active.size > 0) await new Promise((r) => setImmediate(r));
    await queue.shutDownWithDrain();
    await Promise.all(workers);
    expect(addsWhileActive).toBeGreaterThan(20); // the interesting case did happen
    for (const [key, added] of lastAdd) expect(lastStart.get(key)).toBeGreaterThan(added);
  });
});

describe("WorkQueue delayed adds", () => {
  it("adds the key when the injected clock reaches the delay, not before", () => {
    const { queue, clock } = setup();
    queue.addAfter("k", 100);
    clock.advance(99);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
  });

  it("lets an earlier addAfter win over a later one for the same key", async () => {
    const { queue, clock } = setup();
    queue.addAfter("k", 100);
    queue.addAfter("k", 50);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(50);
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe("k");
    queue.done("k");
    clock.advance(100);
    expect(queue.len()).toBe(0);
  });

  it("keeps the earlier time when a later addAfter arrives", () => {
    const { queue, clock } = setup();
    queue.addAfter("k", 50);
    queue.addAfter("k", 100);
    clock.advance(50);
    expect(queue.len()).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("adds immediately for a zero, negative or invalid delay", () => {
    const { queue, clock } = setup();
    queue.addAfter("a", 0);
    queue.addAfter("b", -5);
    queue.addAfter("c", Number.NaN);
    expect(queue.len()).toBe(3);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("collapses a delayed add into a key that is still queued", () => {
    const { queue, clock } = setup();
    queue.add("k");
    queue.addAfter("k", 10);
    clock.advance(10);
    expect(queue.len()).toBe(1);
  });

  it("does not let an immediate add cancel a scheduled one", async () => {
    const { queue, clock } = setup();
    queue.addAfter("k", 10);
    queue.add("k");
    expect(await queue.get()).toBe("k");
    queue.done("k");
    clock.advance(10);
    expect(queue.len()).toBe(1);
  });

  it("backs off per key with addRateLimited until forgotten", () => {
    const { queue, clock } = setup();
    queue.addRateLimited("k");
    queue.addRateLimited("k"); // second failure: 10 ms, but the 5 ms schedule is earlier
    expect(queue.numRequeues("k")).toBe(2);
    clock.advance(5);
    expect(queue.len()).toBe(1);
    queue.forget("k");
    expect(queue.numRequeues("k")).toBe(0);
  });

  it("uses growing delays for repeated failures", async () => {
    const { queue, clock } = setup();
    const due: number[] = [];
    for (let i = 0; i < 3; i++) {
      const start = clock.now().getTime();
      queue.addRateLimited("k");
      while (queue.len() === 0) clock.advance(1);
      due.push(clock.now().getTime() - start);
      await queue.get();
      queue.done("k");
    }
    expect(due).toEqual([5, 10, 20]);
  });
});

describe("WorkQueue shutdown", () => {
  it("ignores new adds and drops queued and scheduled keys", async () => {
    const { queue, clock, depths } = setup();
    queue.add("a");
    queue.add("b");
    queue.addAfter("c", 10);
    expect(await queue.get()).toBe("a");
    queue.shutDown();
    expect(queue.isShuttingDown()).toBe(true);
    expect(queue.len()).toBe(0);
    expect(depths.at(-1)).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    queue.add("d");
    queue.addAfter("e", 5);
    clock.advance(20);
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it("resolves pending get() calls with undefined", async () => {
    const { queue } = setup();
    const pending = [queue.get(), queue.get()];
    queue.shutDown();
    expect(await Promise.all(pending)).toEqual([undefined, undefined]);
  });

  it("does not re-queue a dirty key on done after shutdown", async () => {
    const { queue } = setup();
    queue.add("k");
    await queue.get();
    queue.add("k");
    queue.shutDown();
    queue.done("k");
    expect(queue.len()).toBe(0);
  });

  it("shutDownWithDrain waits for keys in flight to be done", async () => {
    const { queue } = setup();
    queue.add("a");
    queue.add("b");
    await queue.get();
    await queue.get();
    const drained = queue.shutDownWithDrain();
    queue.done("a");
    expect(await peek(drained)).toBe(PENDING);
    queue.done("b");
    expect(await peek(drained)).toBeUndefined();
  });

  it("shutDownWithDrain resolves at once when nothing is in flight", async () => {
    const { queue } = setup();
    queue.add("a");
    expect(await peek(queue.shutDownWithDrain())).toBeUndefined();
  });
});
