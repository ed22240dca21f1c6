import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.ts";
import { sleep } from "./sleep.ts";

const settled = async (p: Promise<unknown>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe("sleep", () => {
  it("resolves when the clock reaches the time", async () => {
    const clock = new FakeClock();
    const p = sleep(clock, 100);
    clock.advance(99);
    expect(await settled(p)).toBe(false);
    clock.advance(1);
    expect(await settled(p)).toBe(true);
  });

  it("resolves early on abort and leaves no timer behind", async () => {
    const clock = new FakeClock();
    const abort = new AbortController();
    const p = sleep(clock, 100, abort.signal);
    abort.abort();
    expect(await settled(p)).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("does not wait at all when already aborted", async () => {
    const clock = new FakeClock();
    expect(await settled(sleep(clock, 100, AbortSignal.abort()))).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  });
});
