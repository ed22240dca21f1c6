// The informer's options and its metrics hooks, apart from the loop that uses them.
import type { KubernetesObject } from "./kube-types.ts";
import type { Logger } from "pino";
import type { Backoff } from "./backoff.ts";
import type { Clock } from "./clock.ts";
import type { Decoder } from "./decode.ts";
import type { ListWatch } from "./list-watch.ts";

/** Why a new LIST or WATCH was started: the server closed the watch, 410, a failure, or silence. */
export type RestartReason = "closed" | "expired" | "error" | "idle";

/** Implemented with prom-client elsewhere; kept abstract so the informer stays testable. */
export interface InformerMetrics {
  onWatchRestart(informer: string, reason: RestartReason): void;
  /** An event or bookmark arrived (the last-event timestamp gauge). */
  onEvent(informer: string, at: Date): void;
  /** An object failed to decode and was kept out of the cache. */
  onInvalid?(informer: string): void;
}

export interface InformerOptions<T> {
  /** Names the informer in logs and metrics. */
  name: string;
  listWatch: ListWatch<KubernetesObject>;
  /**
   * Turns each object from the server into what the cache holds (a zod schema, or a function
   * returning the object or an Error). An object that fails is kept out of the typed cache:
   * handlers see it deleted if it was there, `onInvalid` handlers get it with the error (again
   * at each resync), a warning is logged with the error and the metric `onInvalid` counts it;
   * `invalid(namespace, name)` returns it until it is fixed or deleted. Without a decoder the
   * objects are cached as they come, unchecked.
   */
  decode?: Decoder<T>;
  log: Logger;
  clock?: Clock;
  metrics?: InformerMetrics;
  /**
   * Silence after which a watch is presumed dead (default 6 min). The API server sends bookmarks
   * roughly every minute, but only once its watch cache has seen progress, so a quiet custom
   * collection can go minutes without one. Either way a watch never stays silent past its own
   * server-side timeout, so the limit used is at most that timeout plus 30 s.
   */
  idleLimitMs?: number;
  /** Period of the resync handlers (default 10 min); 0 turns resync off. */
  resyncPeriodMs?: number;
  /** Delays between failed attempts (default 1 s doubling to 30 s, 10 % jitter). */
  backoff?: Backoff;
  /** Server-side watch timeout (default random 300–600 s, as client-go). */
  watchTimeoutSeconds?: () => number;
}
