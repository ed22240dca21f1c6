// A few quick retries of one API call that failed for a reason that may pass by itself (a 429 or
// 5xx from a busy API server or etcd, a dropped connection). For best-effort writes such as Events,
// which nobody else retries: client-go's event broadcaster likewise tries an Event more than once.
// Anything else (404, 409, 422, 403) is the caller's to handle, so it is thrown at once.
import type { Clock } from "./clock.ts";
import { isAlreadyExists, normalizeError } from "./errors.ts";
import { sleep } from "./sleep.ts";

const MAX_WAIT_MS = 2000;

export interface RetryTransientOptions {
  clock: Clock;
  /** Tries in all, the first included (default 3). */
  attempts?: number;
  /** Wait before the second try; doubled for each later one (default 200 ms). */
  initialMs?: number;
}

export async function retryTransient<T>(call: () => Promise<T>, o: RetryTransientOptions): Promise<T> {
  const attempts = o.attempts ?? 3;
  let wait = o.initialMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const error = normalizeError(e);
      if (attempt >= attempts || !error.retryable) throw e;
      // A server's Retry-After is honoured up to a short cap: the caller is waiting on this.
      await sleep(o.clock, Math.min(MAX_WAIT_MS, Math.max(wait, (error.retryAfterSeconds ?? 0) * 1000)));
      wait *= 2;
    }
  }
}

/**
 * Creates an object under a fixed name, retrying transient failures. A retry answered
 * AlreadyExists means the earlier try was written after all (its answer was lost): success.
 */
export async function createOnce(create: () => Promise<unknown>, clock: Clock): Promise<void> {
  let retry = false;
  await retryTransient(
    async () => {
      try {
        await create();
      } catch (e) {
        if (retry && isAlreadyExists(e)) return;
        throw e;
      } finally {
        retry = true;
      }
    },
    { clock },
  );
}
