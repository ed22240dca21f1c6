// Token buckets: `burst` requests at once, then `perSecond` on average. Pure; the caller passes
// the time. A BucketSet keeps one bucket per key in a bounded LRU, so a flood of distinct keys
// costs bounded memory (an evicted bucket starts full again: the price of the bound); buckets that
// have refilled are forgotten as they reach the least recent end.

export interface Rate {
  perSecond: number;
  burst: number;
}

export type Taken = { ok: true } | { ok: false; retryAfterMs: number };

interface BucketState {
  tokens: number;
  at: number;
}

/** Refills `state` up to `nowMs` and takes one token if there is one. Mutates `state`. */
export function take(state: BucketState, rate: Rate, nowMs: number): Taken {
  const elapsed = Math.max(0, nowMs - state.at);
  state.tokens = Math.min(rate.burst, state.tokens + (elapsed * rate.perSecond) / 1000);
  state.at = Math.max(state.at, nowMs);
  if (state.tokens >= 1) {
    state.tokens -= 1;
    return { ok: true };
  }
  return { ok: false, retryAfterMs: Math.ceil(((1 - state.tokens) * 1000) / rate.perSecond) };
}

export class BucketSet {
  readonly #buckets = new Map<string, BucketState>();
  readonly #rate: Rate;
  readonly #maxKeys: number;

  constructor(rate: Rate, maxKeys = 50_000) {
    if (!(rate.perSecond > 0) || !(rate.burst >= 1)) throw new RangeError("a rate needs perSecond > 0 and burst >= 1");
    this.#rate = rate;
    this.#maxKeys = maxKeys;
  }

  get size(): number {
    return this.#buckets.size;
  }

  take(key: string, nowMs: number): Taken {
    let state = this.#buckets.get(key);
    if (state) this.#buckets.delete(key);
    else state = { tokens: this.#rate.burst, at: nowMs };
    const taken = take(state, this.#rate, nowMs);
    this.#buckets.set(key, state); // most recently used last
    for (const [oldest, bucket] of this.#buckets) {
      // A bucket that has refilled is the same as none: forgetting it keeps the set as small as
      // the keys active within one refill, not as large as every key ever seen (up to the bound).
      const full = bucket.tokens + ((nowMs - bucket.at) * this.#rate.perSecond) / 1000 >= this.#rate.burst;
      if (this.#buckets.size <= this.#maxKeys && !full) break;
      this.#buckets.delete(oldest);
    }
    return taken;
  }
}
