// Time is injected everywhere it matters (backoff, delayed requeues, token expiry) so that
// tests can move it forward deterministically instead of sleeping.

/** Cancels a pending timer; calling it after the timer fired, or twice, does nothing. */
export type Cancel = () => void;

export interface Clock {
  now(): Date;
  /** Runs `fn` once, `ms` milliseconds from now. */
  after(ms: number, fn: () => void): Cancel;
}

/** Node fires a timer longer than this at once (TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The wall clock and Node's timers. */
export const systemClock: Clock = {
  now: () => new Date(),
  after(ms, fn) {
    // Long delays (a requeue at a far-off expiry) are chained in steps Node can represent.
    let timer: ReturnType<typeof setTimeout>;
    const arm = (remaining: number): void => {
      const step = Math.min(remaining, MAX_TIMER_MS);
      timer = setTimeout(() => (remaining > step ? arm(remaining - step) : fn()), step);
    };
    arm(Math.max(0, ms));
    return () => clearTimeout(timer);
  },
};

interface FakeTimer {
  readonly due: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A manually driven clock: time only moves when `advance` or `set` is called. */
export class FakeClock implements Clock {
  #nowMs: number;
  #seq = 0;
  readonly #timers = new Set<FakeTimer>();

  constructor(start: Date = new Date("2026-01-01T00:00:00Z")) {
    this.#nowMs = start.getTime();
  }

  now(): Date {
    return new Date(this.#nowMs);
  }

  after(ms: number, fn: () => void): Cancel {
    const timer: FakeTimer = { due: this.#nowMs + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return () => {
      this.#timers.delete(timer);
    };
  }

  /**
   * Moves time forward, firing every timer that falls due on the way in due-time order (ties in
   * the order they were set). A timer set by a firing callback also fires if it is due in time.
   */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError("a clock cannot go backwards");
    const target = this.#nowMs + ms;
    for (let next = this.#nextDue(target); next; next = this.#nextDue(target)) {
      this.#timers.delete(next);
      this.#nowMs = next.due;
      next.fn();
    }
    this.#nowMs = target;
  }

  /** Number of timers that have neither fired nor been cancelled. */
  pendingTimers(): number {
    return this.#timers.size;
  }

  #nextDue(limit: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.#timers) {
      if (t.due > limit) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  }
}
