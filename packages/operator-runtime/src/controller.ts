// The worker loop around a Reconciler, after controller-runtime's internal controller: it owns
// the queue, retries with per-key backoff, metrics, the per-reconcile logging context and
// containment of whatever a reconciler throws. Start it once caches have synced (and, with
// leader election, once leading); stop it before releasing the lease.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { normalizeError } from "./errors.ts";
import { Backoff } from "./backoff.ts";
import type { Clock } from "./clock.ts";
import { parseRequestKey, requestKey, TerminalError } from "./reconcile-result.ts";
import type { Reconciler, Request, Result } from "./reconcile-result.ts";
import { WorkQueue } from "./workqueue.ts";

export type ReconcileOutcome = "success" | "requeue_after" | "error" | "terminal_error";

/** Implemented with prom-client elsewhere; kept abstract so the loop stays testable. */
export interface ControllerMetrics {
  onReconcile(controller: string, outcome: ReconcileOutcome, durationMs: number): void;
  onQueueDepth(controller: string, depth: number): void;
}

export interface ControllerOptions {
  /** Names the controller in logs and metrics, e.g. "emailauthenticatorstage". */
  name: string;
  reconciler: Reconciler;
  log: Logger;
  clock: Clock;
  /** Concurrent reconciles of different keys (default 1, as controller-runtime). */
  workers?: number;
  /** Per-key retry delays (default 5 ms doubling to 5 min, no jitter, as controller-runtime). */
  backoff?: Backoff;
  metrics?: ControllerMetrics;
  newReconcileID?: () => string;
}

const NO_METRICS: ControllerMetrics = { onReconcile: () => {}, onQueueDepth: () => {} };

export class Controller {
  readonly name: string;
  readonly #reconciler: Reconciler;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #workerCount: number;
  readonly #metrics: ControllerMetrics;
  readonly #newReconcileID: () => string;
  readonly #queue: WorkQueue;
  readonly #abort = new AbortController();
  #workers: Promise<void>[] | undefined;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#reconciler = options.reconciler;
    this.#log = options.log.child({ controller: options.name });
    this.#clock = options.clock;
    this.#workerCount = options.workers ?? 1;
    if (!Number.isInteger(this.#workerCount) || this.#workerCount < 1)
      throw new RangeError("workers must be a positive integer");
    this.#metrics = options.metrics ?? NO_METRICS;
    this.#newReconcileID = options.newReconcileID ?? randomUUID;
    this.#queue = new WorkQueue({
      clock: options.clock,
      backoff: options.backoff ?? new Backoff({ initialMs: 5, maxMs: 300_000, jitter: 0 }),
      onDepthChange: (depth) => this.#metrics.onQueueDepth(this.name, depth),
    });
  }

  /** Asks for a reconcile of `req`; event handlers call this, before or after start(). */
  enqueue(req: Request): void {
    this.#queue.add(requestKey(req));
  }

  enqueueAfter(req: Request, ms: number): void {
    this.#queue.addAfter(requestKey(req), ms);
  }

  start(): void {
    if (this.#queue.isShuttingDown()) throw new Error(`controller ${this.name} was stopped and cannot start again`);
    if (this.#workers) throw new Error(`controller ${this.name} was already started`);
    this.#workers = Array.from({ length: this.#workerCount }, () => this.#work());
    this.#log.info({ workers: this.#workerCount }, "controller started");
  }

  /**
   * Stops taking work and lets reconciles in flight finish. If they are still running after
   * `timeoutMs`, their signal is aborted and this resolves without waiting further. Resolves
   * true when everything finished in time.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    let cancelTimer = (): void => {};
    const timedOut = new Promise<false>((resolve) => {
      cancelTimer = this.#clock.after(timeoutMs, () => resolve(false));
    });
    const finished = this.#queue
      .shutDownWithDrain()
      .then(() => Promise.all(this.#workers ?? []))
      .then(() => true as const);
    const drained = await Promise.race([finished, timedOut]);
    cancelTimer();
    if (!drained) {
      this.#log.warn({ timeoutMs }, "reconciles still running at the shutdown deadline; aborting them");
      this.#abort.abort();
    }
    this.#log.info({ drained }, "controller stopped");
    return drained;
  }

  async #work(): Promise<void> {
    for (let key = await this.#queue.get(); key !== undefined; key = await this.#queue.get()) {
      try {
        await this.#reconcileKey(key);
      } catch (err) {
        // Only a failing metrics hook or logger gets here; the worker must outlive it.
        this.#log.error({ err: normalizeError(err), key }, "controller worker failed outside the reconciler");
      } finally {
        this.#queue.done(key);
      }
    }
  }

  async #reconcileKey(key: string): Promise<void> {
    const req = parseRequestKey(key);
    const log = this.#log.child({ namespace: req.namespace, name: req.name, reconcileID: this.#newReconcileID() });
    const started = this.#clock.now().getTime();
    let outcome: ReconcileOutcome;
    try {
      const result = await this.#reconciler.reconcile(req, { signal: this.#abort.signal, log });
      outcome = this.#succeeded(key, result, log);
    } catch (err) {
      outcome = this.#failed(key, err, log);
    }
    this.#metrics.onReconcile(this.name, outcome, this.#clock.now().getTime() - started);
  }

  #succeeded(key: string, result: Result, log: Logger): ReconcileOutcome {
    this.#queue.forget(key);
    const after = result.requeueAfterMs;
    if (after !== undefined && after > 0 && Number.isFinite(after)) {
      this.#queue.addAfter(key, after);
      log.debug({ requeueAfterMs: after }, "reconciled; requeue scheduled");
      return "requeue_after";
    }
    log.debug("reconciled");
    return "success";
  }

  #failed(key: string, err: unknown, log: Logger): ReconcileOutcome {
    const error = normalizeError(err);
    if (err instanceof TerminalError) {
      this.#queue.forget(key);
      log.error({ err: error }, "reconcile failed with a terminal error; waiting for the object to change");
      return "terminal_error";
    }
    this.#queue.addRateLimited(key);
    log.error({ err: error, failures: this.#queue.numRequeues(key) }, "reconcile failed; retrying with backoff");
    return "error";
  }
}
