// A keyed work queue with client-go's guarantees: a key waits in the queue at most once, and a
// key being processed is never handed to a second worker; adding it meanwhile marks it dirty so
// it is queued again, once, when the first worker calls done(). Reconciles are level-based, so
// collapsing duplicates loses nothing.
import type { Backoff } from "./backoff.ts";
import type { Cancel, Clock } from "./clock.ts";

export interface WorkQueueOptions {
  clock: Clock;
  /** Per-key delays of addRateLimited. */
  backoff: Backoff;
  /** Called with len() whenever it changes (queue depth metric). */
  onDepthChange?: (depth: number) => void;
}

interface Delayed {
  readonly due: number;
  readonly cancel: Cancel;
}

export class WorkQueue {
  readonly #clock: Clock;
  readonly #backoff: Backoff;
  readonly #onDepthChange: (depth: number) => void;
  /** Keys ready to be handed out, oldest first. */
  readonly #queue: string[] = [];
  /** Keys that need processing: queued, or re-added while being processed. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #delayed = new Map<string, Delayed>();
  readonly #getters: ((key: string | undefined) => void)[] = [];
  readonly #drainWaiters: (() => void)[] = [];
  #shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    this.#clock = options.clock;
    this.#backoff = options.backoff;
    this.#onDepthChange = options.onDepthChange ?? (() => {});
  }

  /** Marks `key` as needing processing; ignored after shutdown. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return; // done() queues it again
    this.#enqueue(key);
  }

  /**
   * Adds `key` after `ms`. A key already scheduled keeps whichever time comes first, so a
   * later, longer requeue cannot postpone an earlier one. An immediate add() does not cancel
   * a scheduled one: both are wanted (e.g. an edit now, a token expiry later).
   */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (!(ms > 0)) {
      this.add(key);
      return;
    }
    const due = this.#clock.now().getTime() + ms;
    const existing = this.#delayed.get(key);
    if (existing && existing.due <= due) return;
    existing?.cancel();
    const cancel = this.#clock.after(ms, () => {
      this.#delayed.delete(key);
      this.add(key);
    });
    this.#delayed.set(key, { due, cancel });
  }

  /** Adds `key` after its next per-key backoff delay. */
  addRateLimited(key: string): void {
    this.addAfter(key, this.#backoff.next(key));
  }

  /** Resets the backoff of `key`; it does not remove the key from the queue. */
  forget(key: string): void {
    this.#backoff.reset(key);
  }

  /** Failures of `key` since it was last forgotten. */
  numRequeues(key: string): number {
    return this.#backoff.attempts(key);
  }

  /**
   * Waits for the next key and marks it as processing; the caller must call done(key).
   * Resolves to undefined once the queue is shut down.
   */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key === undefined) return new Promise((resolve) => this.#getters.push(resolve));
    this.#dirty.delete(key);
    this.#processing.add(key);
    this.#onDepthChange(this.#queue.length);
    return Promise.resolve(key);
  }

  /** Ends processing of `key`, queueing it again if it was added meanwhile. */
  done(key: string): void {
    if (!this.#processing.delete(key)) return;
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#enqueue(key);
    if (this.#processing.size === 0) this.#drainWaiters.splice(0).forEach((resolve) => resolve());
  }

  /**
   * Stops the queue: adds are ignored, scheduled adds are cancelled, queued keys are dropped
   * (the next leader rebuilds them from a fresh list), and every get() resolves to undefined.
   * Unlike client-go, queued keys are not handed out after shutdown: stopping should not
   * start new work.
   */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const { cancel } of this.#delayed.values()) cancel();
    this.#delayed.clear();
    const dropped = this.#queue.length;
    this.#queue.length = 0;
    this.#dirty.clear();
    this.#getters.splice(0).forEach((resolve) => resolve(undefined));
    if (dropped > 0) this.#onDepthChange(0);
  }

  /** shutDown(), then resolves once every key being processed has been marked done. */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Keys ready to be handed out (not counting those being processed or scheduled for later). */
  len(): number {
    return this.#queue.length;
  }

  isShuttingDown(): boolean {
    return this.#shuttingDown;
  }

  #enqueue(key: string): void {
    const getter = this.#getters.shift();
    if (getter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      getter(key);
      return;
    }
    this.#queue.push(key);
    this.#onDepthChange(this.#queue.length);
  }
}
