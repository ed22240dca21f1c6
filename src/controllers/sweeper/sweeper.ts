// Leader-only: deletes expired execution, challenge and throttle Secrets in bounded batches, in
// the operator's namespace, where they all live (records of a deleted stage too: they cannot be
// owned by a stage in another namespace, so expiry is what removes them). Verification checks
// expiry itself; this only keeps the API server from filling up with abandoned executions, dead
// codes and stale counters.
import type { CoreApi } from "@emailauth/operator-runtime";
import type { Logger } from "pino";
import { expiringSelector } from "../../kinds/labels.ts";
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
  /** One round; the default deletes expired Secrets through `core`. Replaced in unit tests. */
  sweepNamespace?: (namespace: string, now: Date, batchSize: number) => Promise<number>;
}

export class Sweeper {
  readonly #o: SweeperOptions;
  #cancel: Cancel | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;

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
      const sweep = this.#o.sweepNamespace ?? ((ns, now, max) => deleteExpired(core, ns, now, max));
      const deleted = await sweep(namespace, clock.now(), this.#batchSize);
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

function deleteExpired(core: CoreApi, namespace: string, now: Date, maxDeletes: number): Promise<number> {
  return deleteSecrets(core, {
    namespace,
    labelSelector: expiringSelector(),
    select: (page) => expiredExecutions(page, now, Number.POSITIVE_INFINITY),
    maxDeletes,
  });
}
