import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeClock, systemClock } from "./clock.ts";

describe("FakeClock", () => {
  it("starts at the given time and only moves when advanced", () => {
    const clock = new FakeClock(new Date("2030-05-06T07:08:09Z"));
    expect(clock.now().toISOString()).toBe("2030-05-06T07:08:09.000Z");
    clock.advance(1500);
    expect(clock.now().toISOString()).toBe("2030-05-06T07:08:10.500Z");
  });

  it("fires due timers in due order, ties in the order they were set, and not early", () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    clock.after(30, () => fired.push("c"));
    clock.after(10, () => fired.push("a1"));
    clock.after(10, () => fired.push("a2"));
    clock.after(20, () => fired.push("b"));
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(11);
    expect(fired).toEqual(["a1", "a2", "b"]);
    expect(clock.pendingTimers()).toBe(1);
  });

  it("sets now() to each timer's due time while it fires", () => {
    const clock = new FakeClock(new Date(0));
    const seen: number[] = [];
    clock.after(5, () => seen.push(clock.now().getTime()));
    clock.after(7, () => seen.push(clock.now().getTime()));
    clock.advance(100);
    expect(seen).toEqual([5, 7]);
    expect(clock.now().getTime()).toBe(100);
  });

  it("fires timers scheduled by a firing timer when they fall inside the window", () => {
    const clock = new FakeClock(new Date(0));
    const seen: number[] = [];
    clock.after(10, () => {
      seen.push(clock.now().getTime());
      clock.after(10, () => seen.push(clock.now().getTime()));
      clock.after(100, () => seen.push(clock.now().getTime()));
    });
    clock.advance(50);
    expect(seen).toEqual([10, 20]);
    expect(clock.pendingTimers()).toBe(1);
  });

  it("does not fire a cancelled timer, and cancelling twice is harmless", () => {
    const clock = new FakeClock();
    let fired = false;
    const cancel = clock.after(10, () => (fired = true));
    cancel();
    cancel();
    clock.advance(20);
    expect(fired).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("treats a negative delay as zero and refuses to go backwards", () => {
    const clock = new FakeClock();
    let fired = false;
    clock.after(-5, () => (fired = true));
    clock.advance(0);
    expect(fired).toBe(true);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });
});

describe("systemClock", () => {
  it("runs a real timer and can cancel one", async () => {
    let cancelledFired = false;
    systemClock.after(1, () => (cancelledFired = true))();
    const start = systemClock.now().getTime();
    await new Promise<void>((resolve) => systemClock.after(5, resolve));
    expect(systemClock.now().getTime()).toBeGreaterThanOrEqual(start + 4);
    expect(cancelledFired).toBe(false);
  });

  describe("with timers longer than Node can represent", () => {
    afterEach(() => vi.useRealTimers());

    it("waits the whole delay instead of firing at once", () => {
      vi.useFakeTimers();
      let fired = false;
      const thirtyDays = 30 * 24 * 3600 * 1000;
      systemClock.after(thirtyDays, () => (fired = true));
      vi.advanceTimersByTime(thirtyDays - 1);
      expect(fired).toBe(false);
      vi.advanceTimersByTime(1);
      expect(fired).toBe(true);
    });

    it("can cancel a chained timer after its first step", () => {
      vi.useFakeTimers();
      let fired = false;
      const cancel = systemClock.after(2 ** 32, () => (fired = true));
      vi.advanceTimersByTime(2 ** 31);
      cancel();
      vi.advanceTimersByTime(2 ** 32);
      expect(fired).toBe(false);
    });
  });
});
