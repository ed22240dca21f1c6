// A list-watch cache of one collection that never gives up, after client-go's reflector, on
// KubeClient (see list-watch.ts). One loop owns everything, so exactly one request is
// in flight at any time:
//   LIST → WATCH from its resourceVersion (bookmarks on, server timeout 300–600 s) → the watch
//   ends cleanly → WATCH again from the last resourceVersion seen (events and bookmarks alike);
//   410 Expired/Gone → LIST again, handlers get the difference as add/update/delete;
//   any other failure → wait (jittered 1 s doubling to 30 s) and retry; the wait resets after a
//   successful LIST or the first event of a watch;
//   nothing at all for longer than the idle limit → abort and WATCH again (half-open sockets).
// A periodic resync hands every cached key to the resync handlers, to catch drift that no
// event reports. client-node's own informer stops for good on most errors (§B.3); this does not.
// With a decoder, the cache holds typed objects, decoded once as they arrive; objects that fail
// to decode are kept apart (see InformerOptions.decode). No cached object keeps
// metadata.managedFields (controller-runtime's TransformStripManagedFields): nothing reads them,
// and they were over two thirds of a parsed EmailDevice's heap.
import type { KubeClient } from "./kube-client.ts";
import type { KubernetesObject } from "./kube-types.ts";
import type { Logger } from "pino";
import { Backoff, jittered } from "./backoff.ts";
import { systemClock } from "./clock.ts";
import type { Cancel, Clock } from "./clock.ts";
import { sleep } from "./sleep.ts";
import { normalizeError } from "./errors.ts";
import { decodeWith } from "./decode.ts";
import type { Decoded, Keyed } from "./decode.ts";
import { EventHandlers } from "./event-handlers.ts";
import type { AddHandler, DeleteHandler, InvalidHandler, ResyncHandler, UpdateHandler } from "./event-handlers.ts";
import { guardedWatch, IDLE_GRACE_MS } from "./guarded-watch.ts";
import type { GuardedWatchOutcome } from "./guarded-watch.ts";
import { createListWatch } from "./list-watch.ts";
import type { ListWatch, ListWatchOptions, WatchEvent } from "./list-watch.ts";
import { resourceName } from "./resource.ts";
import type { ResourceRef } from "./resource.ts";
import type { InformerMetrics, InformerOptions, RestartReason } from "./informer-options.ts";
import { keyOf, objectKey, Store } from "./informer-store.ts";
import type { InvalidObject } from "./object-cache.ts";

export type { InformerMetrics, InformerOptions, RestartReason };

export const DEFAULT_IDLE_LIMIT_MS = 360_000;
const NO_METRICS: InformerMetrics = { onWatchRestart: () => {}, onEvent: () => {} };

type SyncWaiter = (synced: boolean) => void;

export class Informer<T extends Keyed> {
  readonly name: string;
  readonly #lw: ListWatch<KubernetesObject>;
  readonly #decode: (raw: KubernetesObject) => Decoded<T>;
  #invalid = new Map<string, InvalidObject>();
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #metrics: InformerMetrics;
  readonly #idleLimitMs: number;
  readonly #resyncPeriodMs: number;
  readonly #backoff: Backoff;
  readonly #watchTimeoutSeconds: () => number;
  readonly #store = new Store<T>();
  readonly #handlers: EventHandlers<T>;
  readonly #stop = new AbortController();
  #run: Promise<void> | undefined;
  #resourceVersion = "";
  #eventsSinceList = 0;
  #synced = false;
  #syncWaiters: SyncWaiter[] = [];
  #cancelResync: Cancel | undefined;

  constructor(options: InformerOptions<T>) {
    this.name = options.name;
    this.#lw = options.listWatch;
    const { decode } = options;
    this.#decode = decode
      ? (raw) => decodeWith(decode, withoutManagedFields(raw))
      : (raw) => ({ ok: true, object: withoutManagedFields(raw) as unknown as T }); // unchecked, as the caller asked
    this.#log = options.log.child({ informer: options.name });
    this.#clock = options.clock ?? systemClock;
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#idleLimitMs = options.idleLimitMs ?? DEFAULT_IDLE_LIMIT_MS;
    this.#resyncPeriodMs = options.resyncPeriodMs ?? 600_000;
    if (!(this.#resyncPeriodMs >= 0)) throw new RangeError("resyncPeriodMs must be 0 or positive");
    this.#backoff = options.backoff ?? new Backoff({ initialMs: 1000, maxMs: 30_000, jitter: 0.1 });
    this.#watchTimeoutSeconds = options.watchTimeoutSeconds ?? (() => Math.floor(jittered(300, 1)));
    this.#handlers = new EventHandlers(this.#log);
  }

  onAdd(h: AddHandler<T>): this {
    this.#handlers.onAdd(h);
    return this;
  }

  onUpdate(h: UpdateHandler<T>): this {
    this.#handlers.onUpdate(h);
    return this;
  }

  onDelete(h: DeleteHandler<T>): this {
    this.#handlers.onDelete(h);
    return this;
  }

  onResync(h: ResyncHandler<T>): this {
    this.#handlers.onResync(h);
    return this;
  }

  /** Objects that fail to decode: on arrival, and again at each resync while they stay invalid. */
  onInvalid(h: InvalidHandler): this {
    this.#handlers.onInvalid(h);
    return this;
  }

  start(): void {
    if (this.#stop.signal.aborted) throw new Error(`informer ${this.name} was stopped and cannot start again`);
    if (this.#run) throw new Error(`informer ${this.name} was already started`);
    this.#run = this.#loop();
  }

  /** Aborts the request in flight and resolves once it is over and nothing else will start. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#cancelResync?.();
    this.#settleWaiters(false);
    await this.#run;
  }

  /** True once the first LIST has been applied to the cache (and stays true). */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves true once synced, or false if the informer is stopped first. */
  waitForSync(): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (this.#stop.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#store.get(namespace, name);
  }

  list(namespace?: string): T[] {
    return this.#store.list(namespace);
  }

  /** The object under this key that failed to decode, until it is fixed or deleted. */
  invalid(namespace: string | undefined, name: string): InvalidObject | undefined {
    return this.#invalid.get(objectKey(namespace, name));
  }

  /** The resourceVersion the next WATCH would start from. */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  async #loop(): Promise<void> {
    const signal = this.#stop.signal;
    let relist = true;
    while (!signal.aborted) {
      let reason: RestartReason;
      let delayMs = 0;
      try {
        if (relist) {
          await this.#list(signal);
          relist = false;
        }
        const outcome = await this.#watch(signal);
        reason = outcome.idle ? "idle" : "closed";
        // A watch the server ends before sending anything is a failure in disguise; without
        // the wait, a server that keeps doing that would be hammered.
        if (!outcome.idle && outcome.events === 0) delayMs = this.#backoff.next();
      } catch (err) {
        if (signal.aborted) break;
        const error = normalizeError(err);
        if (error.status === 410) {
          relist = true;
          reason = "expired";
          // Relist at once if the watch got anywhere; a LIST whose own resourceVersion is
          // already too old would otherwise loop without pause.
          if (this.#eventsSinceList === 0) delayMs = this.#backoff.next();
          this.#log.info(
            { resourceVersion: this.#resourceVersion, message: error.message },
            "resourceVersion expired; listing again",
          );
        } else {
          reason = "error";
          delayMs = Math.max(this.#backoff.next(), (error.retryAfterSeconds ?? 0) * 1000);
          const level = error.retryable ? "warn" : "error";
          this.#log[level](
            { err: error, relist, retryInMs: Math.round(delayMs) },
            relist ? "list failed" : "watch failed",
          );
        }
      }
      this.#metrics.onWatchRestart(this.name, reason);
      if (delayMs > 0) await sleep(this.#clock, delayMs, signal);
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    const { items, resourceVersion } = await this.#lw.list(signal);
    if (signal.aborted) return;
    const valid: T[] = [];
    const invalid = new Map<string, InvalidObject>();
    for (const raw of items) {
      const decoded = this.#decode(raw);
      if (decoded.ok) valid.push(decoded.object);
      else invalid.set(keyOf(raw), { object: raw, error: decoded.error });
    }
    const deltas = this.#store.replace(valid);
    const previous = this.#invalid;
    this.#invalid = invalid;
    this.#resourceVersion = resourceVersion;
    this.#eventsSinceList = 0;
    this.#backoff.reset();
    this.#log.debug({ items: items.length, changes: deltas.length, invalid: invalid.size, resourceVersion }, "listed");
    for (const delta of deltas) this.#handlers.dispatch(delta);
    for (const [key, entry] of invalid) {
      const before = previous.get(key)?.object.metadata?.resourceVersion;
      if (before === undefined || before !== entry.object.metadata?.resourceVersion) this.#reportInvalid(entry);
    }
    if (!this.#synced) {
      this.#synced = true;
      this.#settleWaiters(true);
      this.#scheduleResync();
    }
  }

  #watch(signal: AbortSignal): Promise<GuardedWatchOutcome> {
    const request = {
      resourceVersion: this.#resourceVersion,
      timeoutSeconds: this.#watchTimeoutSeconds(),
      idleLimitMs: this.#idleLimitMs,
      clock: this.#clock,
      signal,
      onIdle: (limitMs: number) =>
        this.#log.warn(
          { idleLimitMs: limitMs, resourceVersion: this.#resourceVersion },
          "watch silent for too long; restarting it",
        ),
    };
    let events = 0;
    return guardedWatch(this.#lw, request, (event) => {
      if (++events === 1) this.#backoff.reset();
      this.#eventsSinceList++;
      this.#metrics.onEvent(this.name, this.#clock.now());
      this.#apply(event);
    });
  }

  #apply(event: WatchEvent<KubernetesObject>): void {
    const raw = event.object;
    const rv = raw.metadata?.resourceVersion;
    if (event.type === "DELETED") {
      this.#invalid.delete(keyOf(raw));
      const old = this.#store.remove(raw);
      const decoded = this.#decode(raw);
      const object = decoded.ok ? decoded.object : old;
      if (object) this.#handlers.dispatch({ type: "delete", object });
    } else if (event.type !== "BOOKMARK") {
      const decoded = this.#decode(raw);
      if (decoded.ok) {
        this.#invalid.delete(keyOf(raw));
        const object = decoded.object;
        const old = this.#store.upsert(object);
        this.#handlers.dispatch(old ? { type: "update", old, object } : { type: "add", object });
      } else {
        // Out of the typed cache: to its readers the last good version is gone.
        const entry = { object: raw, error: decoded.error };
        this.#invalid.set(keyOf(raw), entry);
        const old = this.#store.remove(raw);
        if (old) this.#handlers.dispatch({ type: "delete", object: old });
        this.#reportInvalid(entry);
      }
    }
    if (rv) this.#resourceVersion = rv;
  }

  #reportInvalid(entry: InvalidObject): void {
    const { metadata } = entry.object;
    this.#log.warn(
      { object: keyOf(entry.object), resourceVersion: metadata?.resourceVersion, reason: entry.error.message },
      "object failed to decode; kept out of the cache",
    );
    this.#metrics.onInvalid?.(this.name);
    this.#handlers.invalid(entry);
  }

  #scheduleResync(): void {
    if (this.#resyncPeriodMs === 0 || this.#stop.signal.aborted) return;
    this.#cancelResync = this.#clock.after(this.#resyncPeriodMs, () => {
      for (const obj of this.#store.list()) {
        this.#handlers.resync(keyOf(obj), obj);
      }
      for (const entry of this.#invalid.values()) this.#handlers.invalid(entry);
      this.#scheduleResync();
    });
  }

  #settleWaiters(synced: boolean): void {
    const waiters = this.#syncWaiters;
    this.#syncWaiters = [];
    for (const w of waiters) w(synced);
  }
}

export interface CreateInformerOptions<T>
  extends Omit<InformerOptions<T>, "listWatch" | "name">, Omit<ListWatchOptions, "requestTimeoutMs"> {
  name?: string;
}

/** An informer for `ref` through `kube`, with the watch's own inactivity timer set just past the idle limit. */
export function createInformer<T extends Keyed = KubernetesObject>(
  kube: KubeClient,
  ref: ResourceRef,
  options: CreateInformerOptions<T>,
): Informer<T> {
  const idleLimitMs = options.idleLimitMs ?? DEFAULT_IDLE_LIMIT_MS;
  const { labelSelector, fieldSelector, pageSize, listTimeoutMs } = options;
  // The watchdog on the injected clock should win; the watch's timer is the backstop on the
  // real clock, which also bounds a connect that never completes.
  const listWatch = createListWatch<KubernetesObject>(kube, ref, {
    labelSelector,
    fieldSelector,
    pageSize,
    listTimeoutMs,
    requestTimeoutMs: idleLimitMs + IDLE_GRACE_MS,
  });
  return new Informer<T>({ ...options, name: options.name ?? resourceName(ref), listWatch });
}

/**
 * Drops managedFields from an object just parsed from the API server's answer (so ours to change).
 * A fresh metadata object rather than `delete`: that would leave it a slower, larger dictionary.
 */
function withoutManagedFields(raw: KubernetesObject): KubernetesObject {
  if (!raw.metadata || !("managedFields" in raw.metadata)) return raw;
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw.metadata)) if (key !== "managedFields") metadata[key] = value;
  raw.metadata = metadata;
  return raw;
}
