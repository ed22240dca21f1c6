// Retry pacing. The per-key limiter mirrors client-go's ItemExponentialFailureRateLimiter (the
// default for controller work queues); `Backoff` is the single-stream variant used to restart
// informers and retry leader election without request storms.

/** Per-key retry delays for a work queue. */
export interface RateLimiter {
  /** Records one more failure of `key` and returns how long to wait before retrying it. */
  when(key: string): number;
  /** Clears the failure history of `key`, after it succeeded or was given up. */
  forget(key: string): void;
  /** How many failures `key` has had since it was last forgotten. */
  failures(key: string): number;
}

export interface ExponentialRateLimiterOptions {
  /** Delay after the first failure (default 5 ms). */
  baseMs?: number;
  /** Upper bound of the delay (default 5 min). */
  maxMs?: number;
  /** Fraction in [0, 1] by which a delay may be shortened at random (default 0: no jitter). */
  jitter?: number;
  /** Source of randomness in [0, 1), injectable for tests. */
  random?: () => number;
}

export class ExponentialRateLimiter implements RateLimiter {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #failures = new Map<string, number>();

  constructor(options: ExponentialRateLimiterOptions = {}) {
    this.#baseMs = options.baseMs ?? 5;
    this.#maxMs = options.maxMs ?? 5 * 60_000;
    this.#jitter = options.jitter ?? 0;
    this.#random = options.random ?? Math.random;
    checkRange(this.#baseMs, this.#maxMs, this.#jitter);
  }

  when(key: string): number {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    // Jitter only shortens the delay, so the cap stays a hard upper bound.
    const delay = Math.min(this.#baseMs * 2 ** n, this.#maxMs);
    return delay * (1 - this.#jitter * this.#random());
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

export interface BackoffOptions {
  /** First delay (default 1 s). */
  initialMs?: number;
  /** Upper bound of the un-jittered delay (default 30 s). */
  maxMs?: number;
  /** Multiplier per attempt (default 2). */
  factor?: number;
  /** Fraction in [0, 1] of a delay added at random, so that replicas do not retry in step (default 0.1). */
  jitter?: number;
  random?: () => number;
}

/** Exponential backoff for one retrying activity, reset once it succeeds. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempts = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 1000;
    this.#maxMs = options.maxMs ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.1;
    this.#random = options.random ?? Math.random;
    checkRange(this.#initialMs, this.#maxMs, this.#jitter);
    if (!(this.#factor >= 1)) throw new RangeError("backoff factor must be at least 1");
  }

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const base = Math.min(this.#initialMs * this.#factor ** this.#attempts, this.#maxMs);
    this.#attempts++;
    return jittered(base, this.#jitter, this.#random);
  }

  reset(): void {
    this.#attempts = 0;
  }

  get attempts(): number {
    return this.#attempts;
  }
}

/**
 * `ms` plus up to `fraction * ms` at random, like client-go's wait.Jitter; used for watch
 * timeouts (300 s with fraction 1 gives 300–600 s) and resync periods.
 */
export function jittered(ms: number, fraction: number, random: () => number = Math.random): number {
  return ms + ms * fraction * random();
}

function checkRange(firstMs: number, maxMs: number, jitter: number): void {
  if (!(firstMs > 0) || !Number.isFinite(firstMs))
    throw new RangeError("the first delay must be a positive number of ms");
  if (!(maxMs >= firstMs)) throw new RangeError("the maximum delay must be at least the first delay");
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError("jitter must be between 0 and 1");
}
