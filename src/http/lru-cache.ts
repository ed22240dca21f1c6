// A bounded least-recently-used cache whose entries expire, with a time to live chosen per value
// (answers that deny are kept for less time than answers that allow). Concurrent loads of one
// key share a single call, so a burst of requests with a new token costs one review. Pure: the
// clock is injected.
import type { Clock } from "@emailauth/operator-runtime";

export interface LruOptions<V> {
  maxEntries: number;
  /** Milliseconds a loaded value is served for; 0 does not cache it. */
  ttlMs: (value: V) => number;
  clock: Clock;
}

export class LruCache<V> {
  readonly #entries = new Map<string, { until: number; value: V }>();
  readonly #loading = new Map<string, Promise<V>>();
  readonly #o: LruOptions<V>;

  constructor(options: LruOptions<V>) {
    if (!(options.maxEntries >= 1)) throw new RangeError("maxEntries must be at least 1");
    this.#o = options;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The live value, marked as recently used; undefined when absent or expired. */
  get(key: string): V | undefined {
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    this.#entries.delete(key);
    if (hit.until <= this.#o.clock.now().getTime()) return undefined;
    this.#entries.set(key, hit);
    return hit.value;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined || this.#loading.has(key);
  }

  set(key: string, value: V): void {
    const ttl = this.#o.ttlMs(value);
    this.#entries.delete(key);
    if (ttl <= 0) return;
    this.#entries.set(key, { until: this.#o.clock.now().getTime() + ttl, value });
    // Map keeps insertion order, and get() re-inserts on use: the first key is the least recent.
    // Expired entries there go too, so the cache holds what is live, not the bound.
    const now = this.#o.clock.now().getTime();
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#o.maxEntries && entry.until > now) break;
      this.#entries.delete(oldest);
    }
  }

  /**
   * The cached value, or `load()`'s, shared by every caller that asks while it runs. `onMiss` runs
   * (and may throw, refusing the load) only for the caller that starts a load.
   */
  async getOrLoad(key: string, load: () => Promise<V>, onMiss?: () => void): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const pending = this.#loading.get(key);
    if (pending) return pending;
    onMiss?.();
    const loading = load().then(
      (value) => {
        this.#loading.delete(key);
        this.set(key, value);
        return value;
      },
      (e: unknown) => {
        this.#loading.delete(key);
        throw e;
      },
    );
    this.#loading.set(key, loading);
    return loading;
  }
}
