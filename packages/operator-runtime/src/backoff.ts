// Retry pacing: one exponential backoff for everything that retries. A work queue keeps one
// failure history per key (client-go's ItemExponentialFailureRateLimiter); a single retrying
// activity (an informer's LIST/WATCH loop) uses the default key. The delay grows by `factor`
// from `initialMs` up to `maxMs`, and jitter is added on top like client-go's wait.Jitter, so
// replicas that failed together do not retry in step.

export interface BackoffOptions {
  /** Delay after the first failure (default 1 s). */
  initialMs?: number;
  /** Upper bound of the un-jittered delay (default 30 s). */
  maxMs?: number;
  /** Multiplier per failure (default 2). */
  factor?: number;
  /** Fraction in [0, 1] of a delay added at random (default 0.1). */
  jitter?: number;
  /** Source of randomness in [0, 1), injectable for tests. */
  random?: () => number;
}

const SINGLE = "";

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #failures = new Map<string, number>();

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 1000;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.1;
    this.#random = options.random ?? Math.random;
    if (!(this.#initialMs > 0) || !Number.isFinite(this.#initialMs))
      throw new RangeError("the first delay must be a positive number of ms");
    if (!(this.#maxMs >= this.#initialMs)) throw new RangeError("the maximum delay must be at least the first delay");
    if (!(this.#factor >= 1)) throw new RangeError("backoff factor must be at least 1");
    if (!(this.#jitter >= 0 && this.#jitter <= 1)) throw new RangeError("jitter must be between 0 and 1");
  }

  /** Records one more failure of `key` and returns how long to wait before retrying it. */
  next(key: string = SINGLE): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    // Capped before the power can overflow to Infinity after many failures.
    const base = Math.min(this.#initialMs * this.#factor ** Math.min(n, 1024), this.#maxMs);
    return jittered(base, this.#jitter, this.#random);
  }

  /** Forgets the failures of `key`, after it succeeded or was given up. */
  reset(key: string = SINGLE): void {
    this.#failures.delete(key);
  }

  /** Failures of `key` since it was last reset. */
  attempts(key: string = SINGLE): number {
    return this.#failures.get(key) ?? 0;
  }
}

/**
 * `ms` plus up to `fraction * ms` at random, like client-go's wait.Jitter; used for watch
 * timeouts (300 s with fraction 1 gives 300–600 s) and retry periods.
 */
export function jittered(ms: number, fraction: number, random: () => number = Math.random): number {
  return ms + ms * fraction * random();
}
