// Detects a watch that has gone quiet for too long. A half-open TCP connection looks exactly
// like a quiet watch, and the API server sends a bookmark about once a minute even when
// nothing changes, so silence well beyond that means the connection is dead.
// One timer per arming, not one per event: touch() only records the time, and the timer,
// when it fires early relative to the last touch, re-arms itself for the remainder.
import type { Cancel, Clock } from "./clock.ts";

export class Watchdog {
  readonly #clock: Clock;
  readonly #limitMs: number;
  readonly #onIdle: () => void;
  #lastMs = 0;
  #cancel: Cancel | undefined;

  constructor(clock: Clock, limitMs: number, onIdle: () => void) {
    if (!(limitMs > 0) || !Number.isFinite(limitMs))
      throw new RangeError("the idle limit must be a positive number of ms");
    this.#clock = clock;
    this.#limitMs = limitMs;
    this.#onIdle = onIdle;
  }

  /** Starts watching for silence, counting from now. */
  arm(): void {
    this.disarm();
    this.#lastMs = this.#now();
    this.#schedule(this.#limitMs);
  }

  /** Records activity; cheap enough to call for every event. */
  touch(): void {
    this.#lastMs = this.#now();
  }

  disarm(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  get armed(): boolean {
    return this.#cancel !== undefined;
  }

  #schedule(ms: number): void {
    this.#cancel = this.#clock.after(ms, () => {
      this.#cancel = undefined;
      const remaining = this.#lastMs + this.#limitMs - this.#now();
      if (remaining > 0) this.#schedule(remaining);
      else this.#onIdle();
    });
  }

  #now(): number {
    return this.#clock.now().getTime();
  }
}
