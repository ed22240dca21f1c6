import { describe, expect, it } from "vitest";
import { FakeClock } from "./clock.ts";
import { Watchdog } from "./watchdog.ts";

function setup(limitMs = 1000) {
  const clock = new FakeClock();
  let idle = 0;
  const dog = new Watchdog(clock, limitMs, () => idle++);
  return { clock, dog, idle: () => idle };
}

describe("Watchdog", () => {
  it("fires once the limit passes without activity, and not before", () => {
    const { clock, dog, idle } = setup();
    dog.arm();
    clock.advance(999);
    expect(idle()).toBe(0);
    clock.advance(1);
    expect(idle()).toBe(1);
    expect(dog.armed).toBe(false);
    clock.advance(10_000);
    expect(idle()).toBe(1); // one shot per arming
  });

  it("counts silence from the last touch", () => {
    const { clock, dog, idle } = setup();
    dog.arm();
    clock.advance(600);
    dog.touch();
    clock.advance(600); // 1200 since arming, 600 since the touch
    expect(idle()).toBe(0);
    dog.touch();
    clock.advance(999);
    expect(idle()).toBe(0);
    clock.advance(1);
    expect(idle()).toBe(1);
  });

  it("keeps one timer however many events arrive", () => {
    const { clock, dog } = setup();
    dog.arm();
    for (let i = 0; i < 100; i++) {
      clock.advance(5);
      dog.touch();
    }
    expect(clock.pendingTimers()).toBe(1);
  });

  it("never fires once disarmed, and re-arming starts the count again", () => {
    const { clock, dog, idle } = setup();
    dog.arm();
    clock.advance(500);
    dog.disarm();
    clock.advance(5000);
    expect(idle()).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    dog.arm();
    dog.arm(); // re-arming replaces, never doubles, the timer
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(1000);
    expect(idle()).toBe(1);
  });

  it("rejects a limit that is not a positive number", () => {
    const clock = new FakeClock();
    expect(() => new Watchdog(clock, 0, () => {})).toThrow(RangeError);
    expect(() => new Watchdog(clock, Number.NaN, () => {})).toThrow(RangeError);
  });
});
