// One WATCH under an idle watchdog: if nothing arrives for the idle limit, the request is
// aborted and reported as idle rather than failed, so the caller re-watches at once from the
// same resourceVersion instead of backing off. The limit never exceeds the server-side timeout
// plus a grace period: a healthy server always ends the watch by then.
import type { Clock } from "./clock.ts";
import type { ListWatch, WatchEvent } from "./list-watch.ts";
import { Watchdog } from "./watchdog.ts";

export const IDLE_GRACE_MS = 30_000;

export interface GuardedWatchRequest {
  readonly resourceVersion: string;
  readonly timeoutSeconds: number;
  readonly idleLimitMs: number;
  readonly clock: Clock;
  /** Aborts the watch for good (stop); the promise then rejects. */
  readonly signal: AbortSignal;
  /** Told the limit that was exceeded, just before the watch is aborted. */
  readonly onIdle: (limitMs: number) => void;
}

export interface GuardedWatchOutcome {
  /** Ended by the watchdog rather than by the server. */
  readonly idle: boolean;
  /** Events and bookmarks received. */
  readonly events: number;
}

/** Resolves when the server ends the watch or the watchdog does; rejects on any other failure. */
export async function guardedWatch<T>(
  lw: ListWatch<T>,
  request: GuardedWatchRequest,
  onEvent: (event: WatchEvent<T>) => void,
): Promise<GuardedWatchOutcome> {
  const { resourceVersion, timeoutSeconds, clock, signal } = request;
  const attempt = new AbortController();
  const limitMs = Math.min(request.idleLimitMs, timeoutSeconds * 1000 + IDLE_GRACE_MS);
  let idle = false;
  let events = 0;
  const watchdog = new Watchdog(clock, limitMs, () => {
    idle = true;
    request.onIdle(limitMs);
    attempt.abort();
  });
  // Armed before the request: a connect that never completes is silence too.
  watchdog.arm();
  try {
    await lw.watch({ resourceVersion, timeoutSeconds, signal: AbortSignal.any([signal, attempt.signal]) }, (event) => {
      watchdog.touch();
      events++;
      onEvent(event);
    });
    return { idle: false, events };
  } catch (err) {
    if (idle && !signal.aborted) return { idle: true, events };
    throw err;
  } finally {
    watchdog.disarm();
  }
}
