// Lease-based leader election after client-go's LeaderElector (and controller-runtime's
// defaults: lease 15 s, renew deadline 10 s, retry 2 s). A candidate tries every retry period
// (jittered) to create the Lease or take it over once it has gone unrenewed for its duration;
// the leader renews every retry period and stops acting once renewDeadline has passed without
// a successful renewal, which is before any other candidate may take over (renewDeadline <
// leaseDuration). Every write is guarded by resourceVersion (lease-lock.ts).
// Losing leadership ends the elector for good, as in client-go: the owner (main) exits so the
// process restarts clean rather than resuming controllers that may have been half-stopped.
// stop() steps down in the safe order: stop acting (awaiting onStoppedLeading while the lease
// is still being renewed), then release the Lease so a successor starts at once.
import type { KubeClient } from "./kube-client.ts";
import type { Logger } from "pino";
import { isAlreadyExists, isConflict, normalizeError } from "./errors.ts";
import { jittered } from "./backoff.ts";
import { systemClock } from "./clock.ts";
import type { Cancel, Clock } from "./clock.ts";
import { LeaseLock } from "./lease-lock.ts";
import type { LeaseState } from "./lease-lock.ts";
import { claimRecord, heldByOther, releaseRecord, sameRecord } from "./lease-record.ts";
import { sleep } from "./sleep.ts";

export interface LeaderCallbacks {
  /** Leadership gained; `signal` aborts the moment it ends (lost, or stepping down). */
  onStartedLeading(signal: AbortSignal): unknown;
  /** Leadership ended, once per term. On stop() it is awaited before the Lease is released. */
  onStoppedLeading?(): unknown;
  /** The Lease names a new holder (this identity included). */
  onNewLeader?(identity: string): unknown;
}

export interface LeaderElectorOptions {
  kube: KubeClient;
  namespace: string;
  /** Name of the Lease. */
  name: string;
  /** Unique per replica (e.g. pod name plus a random suffix). */
  identity: string;
  callbacks: LeaderCallbacks;
  log: Logger;
  clock?: Clock;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Bound of each API request (default half the renew deadline, at least 1 s). */
  requestTimeoutMs?: number;
  random?: () => number;
}

/** client-go's JitterFactor for retries. */
const JITTER = 1.2;

type Attempt = "acquired" | "held" | "failed";

export class LeaderElector {
  readonly identity: string;
  readonly #lock: LeaseLock;
  readonly #callbacks: LeaderCallbacks;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #leaseDurationMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryPeriodMs: number;
  readonly #random: () => number;
  readonly #stop = new AbortController();
  #running: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  /** Set while acting as leader; aborted when that ends. */
  #term: AbortController | undefined;
  #stoppedLeading: Promise<void> | undefined;
  /** We believe the Lease is ours: acquired, and renewed within the deadline. */
  #holds = false;
  #cancelDeadline: Cancel | undefined;
  #observed: LeaseState | undefined;
  #observedAtMs = 0;
  #reportedLeader = "";

  constructor(options: LeaderElectorOptions) {
    this.identity = options.identity;
    this.#callbacks = options.callbacks;
    this.#clock = options.clock ?? systemClock;
    this.#leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.#random = options.random ?? Math.random;
    validate(this.identity, this.#leaseDurationMs, this.#renewDeadlineMs, this.#retryPeriodMs);
    this.#log = options.log.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
    const requestTimeoutMs = options.requestTimeoutMs ?? Math.max(1000, this.#renewDeadlineMs / 2);
    this.#lock = new LeaseLock(options.kube, options.namespace, options.name, requestTimeoutMs);
  }

  start(): void {
    if (this.#stop.signal.aborted) throw new Error("the leader elector was stopped and cannot start again");
    if (this.#running) throw new Error("the leader elector was already started");
    this.#running = this.#run();
  }

  /** Acting as leader right now. */
  isLeader(): boolean {
    return this.#term !== undefined;
  }

  /** The holder named by the Lease when last read ("" for none or unknown). */
  leader(): string {
    return this.#reportedLeader;
  }

  /** Resolves when the elector has ended: stopped, or leadership lost. */
  async done(): Promise<void> {
    await this.#running;
  }

  /**
   * Steps down and stops. With `release` (the default) a Lease we hold is handed back at once;
   * without it the Lease simply expires, as it would if the process had died.
   */
  stop(options: { release?: boolean } = {}): Promise<void> {
    this.#stopping ??= this.#shutdown(options.release ?? true);
    return this.#stopping;
  }

  async #shutdown(release: boolean): Promise<void> {
    await this.#endTerm(); // renewals continue meanwhile, so nobody else starts yet
    this.#stop.abort();
    await this.#running;
    this.#cancelDeadline?.();
    if (release && this.#holds) await this.#release();
    this.#holds = false;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    this.#log.info("waiting to acquire the leader lease");
    let acquired = false;
    while (!signal.aborted && !acquired) {
      acquired = (await this.#tryAcquireOrRenew()) === "acquired";
      if (!acquired) await sleep(this.#clock, jittered(this.#retryPeriodMs, JITTER, this.#random), signal);
    }
    if (!acquired) return;
    this.#holds = true;
    if (signal.aborted) return; // acquired just as stop() began: never act, but do release it
    this.#armDeadline();
    this.#startTerm();
    while (!signal.aborted && this.#holds) {
      await sleep(this.#clock, this.#retryPeriodMs, signal);
      if (signal.aborted || !this.#holds) break;
      const attempt = await this.#tryAcquireOrRenew();
      if (!this.#holds) break; // the deadline passed while the request was in flight
      if (attempt === "acquired") this.#armDeadline();
      else if (attempt === "held") this.#lose("another identity holds the lease");
    }
  }

  async #tryAcquireOrRenew(): Promise<Attempt> {
    try {
      // Fast path, as client-go: the leader renews on the resourceVersion it wrote, no GET.
      if (this.#holds && this.#observed) {
        try {
          await this.#write(this.#observed);
          return "acquired";
        } catch (err) {
          if (!isConflict(err)) throw err; // someone else wrote: read what they wrote
        }
      }
      const current = await this.#lock.get();
      if (!current) {
        this.#observe(
          await this.#lock.create(claimRecord(undefined, this.identity, this.#leaseSeconds(), this.#clock.now())),
        );
        return "acquired";
      }
      this.#observe(current);
      if (heldByOther(current.record, this.identity, this.#observedAtMs, this.#clock.now().getTime())) return "held";
      await this.#write(current);
      return "acquired";
    } catch (err) {
      const error = normalizeError(err);
      // Losing a race is routine; anything else is worth a warning.
      const routine = isConflict(err) || isAlreadyExists(err);
      this.#log[routine ? "debug" : "warn"]({ err: error }, "could not acquire or renew the leader lease");
      return "failed";
    }
  }

  /** Writes our claim over `base`; rejects with 409 when `base` is no longer current. */
  async #write(base: LeaseState): Promise<void> {
    const next = claimRecord(base.record, this.identity, this.#leaseSeconds(), this.#clock.now());
    this.#observe(await this.#lock.update(next, base.resourceVersion));
  }

  #observe(state: LeaseState): void {
    if (!this.#observed || !sameRecord(this.#observed.record, state.record))
      this.#observedAtMs = this.#clock.now().getTime();
    this.#observed = state;
    const holder = state.record.holderIdentity;
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    if (holder) {
      this.#log.info({ leader: holder }, "new leader observed");
      void contain(this.#log, "onNewLeader", () => this.#callbacks.onNewLeader?.(holder));
    }
  }

  #startTerm(): void {
    const term = new AbortController();
    this.#term = term;
    this.#stoppedLeading = undefined;
    this.#log.info("became leader");
    void contain(this.#log, "onStartedLeading", () => this.#callbacks.onStartedLeading(term.signal));
  }

  /** Stops acting as leader (once per term) and waits for onStoppedLeading to finish. */
  #endTerm(): Promise<void> {
    const term = this.#term;
    if (term) {
      this.#term = undefined;
      term.abort();
      this.#stoppedLeading = contain(this.#log, "onStoppedLeading", () => this.#callbacks.onStoppedLeading?.());
    }
    return this.#stoppedLeading ?? Promise.resolve();
  }

  #armDeadline(): void {
    this.#cancelDeadline?.();
    this.#cancelDeadline = this.#clock.after(this.#renewDeadlineMs, () =>
      this.#lose(`no renewal within ${this.#renewDeadlineMs} ms`),
    );
  }

  #lose(reason: string): void {
    if (!this.#holds) return;
    this.#holds = false;
    this.#cancelDeadline?.();
    this.#log.error({ reason }, "leadership lost");
    void this.#endTerm();
  }

  async #release(): Promise<void> {
    const observed = this.#observed;
    if (!observed || observed.record.holderIdentity !== this.identity) return;
    try {
      this.#observe(
        await this.#lock.update(releaseRecord(observed.record, this.#clock.now()), observed.resourceVersion),
      );
      this.#log.info("released the leader lease");
    } catch (err) {
      this.#log.warn({ err: normalizeError(err) }, "could not release the leader lease; it will expire instead");
    }
  }

  #leaseSeconds(): number {
    return Math.ceil(this.#leaseDurationMs / 1000);
  }
}

function validate(identity: string, leaseMs: number, deadlineMs: number, retryMs: number): void {
  if (!identity) throw new RangeError("a leader-election identity is required");
  if (!(retryMs > 0)) throw new RangeError("retryPeriodMs must be positive");
  if (!(deadlineMs > retryMs * JITTER)) throw new RangeError(`renewDeadlineMs must exceed ${JITTER} × retryPeriodMs`);
  if (!(leaseMs > deadlineMs)) throw new RangeError("leaseDurationMs must exceed renewDeadlineMs");
}

/** Runs a callback so that neither a throw nor a rejection escapes; resolves when it is done. */
async function contain(log: Logger, what: string, fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (err) {
    log.error({ err, callback: what }, "leader election callback failed");
  }
}
