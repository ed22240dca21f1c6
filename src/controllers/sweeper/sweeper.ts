// Leader-only: deletes expired execution, challenge and throttle Secrets in bounded batches, in
// the operator's namespace, where they all live (records of a deleted stage too: they cannot be
// owned by a stage in another namespace, so expiry is what removes them). Verification checks
// expiry itself; this only keeps the API server from filling up with abandoned executions, dead
// codes and stale counters. A round lists only the Secrets whose expiry bucket (a label) ended
// in the last day, not every live record and counter; once an hour, and on a new leader's first
// round, it lists them all, for Secrets written without a bucket or left over from a longer outage.
import type { CoreApi } from "@emailauth/operator-runtime";
import type { Logger } from "pino";
import { dueSelector, expiringSelector } from "../../kinds/labels.ts";
import { deleteSecrets } from "../../k8s/execution-secrets.ts";
import { normalizeError } from "@emailauth/operator-runtime";
import type { Cancel, Clock } from "@emailauth/operator-runtime";
import { expiredExecutions } from "./expired.ts";

export interface SweeperOptions {
  core: CoreApi;
  /** Where records and counters live: the operator's namespace. */
  namespace: string;
  clock: Clock;
  log: Logger;
  intervalMs?: number;
  /**
   * Deletes per round. A round that deletes a full batch is followed by the next after a tenth of
   * the interval: every namespace's records share this one namespace, so a busy cluster must not
   * wait a whole interval per batch.
   */
  batchSize?: number;
  /** One round over the Secrets `selector` picks; the default deletes through `core`. Replaced in unit tests. */
  sweepNamespace?: (namespace: string, now: Date, batchSize: number, selector: string) => Promise<number>;
}

/** How far back a round's bucket selector reaches; older buckets wait for the hourly full list. */
const DUE_LOOKBACK_MS = 24 * 60 * 60_000;
const FULL_LIST_EVERY_MS = 60 * 60_000;

export class Sweeper {
  readonly #o: SweeperOptions;
  #cancel: Cancel | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  /** When a round that listed every expiring Secret last found less than a full batch to delete. */
  #fullListAt: number | undefined;

  constructor(options: SweeperOptions) {
    this.#o = options;
  }

  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  /** One round; returns how many Secrets it deleted (0 when it failed: the next round retries). */
  async sweep(): Promise<number> {
    const { core, clock, log, namespace } = this.#o;
    try {
      const sweep = this.#o.sweepNamespace ?? ((ns, now, max, sel) => deleteExpired(core, ns, now, max, sel));
      const now = clock.now();
      const full = this.#fullListAt === undefined || now.getTime() - this.#fullListAt >= FULL_LIST_EVERY_MS;
      const selector = full ? expiringSelector() : dueSelector(now, DUE_LOOKBACK_MS);
      const deleted = await sweep(namespace, now, this.#batchSize, selector);
      // A full list that filled its batch is followed by another, until the backlog is gone.
      if (full && deleted < this.#batchSize) this.#fullListAt = now.getTime();
      if (deleted) log.info({ namespace, deleted }, "deleted expired execution, challenge and throttle Secrets");
      return deleted;
    } catch (e) {
      log.warn({ namespace, err: normalizeError(e) }, "sweeping expired Secrets failed; will retry next round");
      return 0;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel?.();
    await this.#running;
  }

  get #batchSize(): number {
    return this.#o.batchSize ?? 100;
  }

  #schedule(afterFullBatch = false): void {
    if (this.#stopped) return;
    const interval = this.#o.intervalMs ?? 60_000;
    this.#cancel = this.#o.clock.after(afterFullBatch ? interval / 10 : interval, () => {
      this.#running = this.sweep().then((deleted) => this.#schedule(deleted >= this.#batchSize));
    });
  }
}

function deleteExpired(
  core: CoreApi,
  namespace: string,
  now: Date,
  maxDeletes: number,
  labelSelector: string,
): Promise<number> {
  return deleteSecrets(core, {
    namespace,
    labelSelector,
    select: (page) => expiredExecutions(page, now, Number.POSITIVE_INFINITY),
    maxDeletes,
  });
}
