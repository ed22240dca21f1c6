// Leader-only: deletes expired execution, challenge and throttle Secrets in bounded batches.
// Verification checks expiry itself; this only keeps the API server from filling up with
// abandoned executions, dead codes and stale counters.
import type { CoreV1Api } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { expiringSelector } from "../../kinds/labels.ts";
import { deleteSecrets } from "../../k8s/execution-secrets.ts";
import { normalizeError } from "@emailauth/operator-runtime";
import type { Cancel, Clock } from "@emailauth/operator-runtime";
import { expiredExecutions } from "./expired.ts";

export interface SweeperOptions {
  core: CoreV1Api;
  /** Where executions can live: the watched namespaces, or those that have stages. */
  namespaces: () => string[];
  clock: Clock;
  log: Logger;
  intervalMs?: number;
  /** Deletes per namespace per round. */
  batchSize?: number;
  /** One namespace's round; the default deletes expired Secrets through `core`. Replaced in unit tests. */
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

  /** One round over every namespace; returns how many Secrets it deleted. */
  async sweep(): Promise<number> {
    const { core, clock, log } = this.#o;
    let total = 0;
    for (const namespace of this.#o.namespaces()) {
      try {
        const sweep = this.#o.sweepNamespace ?? ((ns, now, max) => deleteExpired(core, ns, now, max));
        const deleted = await sweep(namespace, clock.now(), this.#o.batchSize ?? 100);
        if (deleted) log.info({ namespace, deleted }, "deleted expired execution, challenge and throttle Secrets");
        total += deleted;
      } catch (e) {
        log.warn({ namespace, err: normalizeError(e) }, "sweeping expired Secrets failed; will retry next round");
      }
    }
    return total;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel?.();
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#cancel = this.#o.clock.after(this.#o.intervalMs ?? 60_000, () => {
      this.#running = this.sweep().then(() => this.#schedule());
    });
  }
}

function deleteExpired(core: CoreV1Api, namespace: string, now: Date, maxDeletes: number): Promise<number> {
  return deleteSecrets(core, {
    namespace,
    labelSelector: expiringSelector(),
    select: (page) => expiredExecutions(page, now, Number.POSITIVE_INFINITY),
    maxDeletes,
  });
}
