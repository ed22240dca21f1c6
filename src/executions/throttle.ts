// Sliding-window budgets in Secrets in the operator's namespace: wrong codes per (namespace, stage,
// user) over 24 h, which survive resends and new executions, and mails per (namespace, address)
// over 1 h. A budget is taken BEFORE the act it pays for: `reserve` appends an entry with a write guarded by the
// resourceVersion it read, and only a committed write grants it, so concurrent requests on any
// replica can never take more than the limit. An entry can be given back (`release`) when the
// act did not happen or did not cost (a right code, a mail the relay refused).
// A counter's Secret is named by an HMAC of its identity under the code key, so neither the user
// id nor the address appears in a name or label, and nobody without the key can find a user's.
// It is read with a list selected by name, so a budget nobody used yet is an empty answer, not a 404;
// before a guarded write, from the API server's watch cache rather than with a quorum read of etcd.
import { createHmac, createSecretKey, type KeyObject, randomBytes } from "node:crypto";
import type { CoreApi, Secret } from "@emailauth/operator-runtime";
import { z } from "zod";
import type { HmacKey } from "./codes.ts";
import {
  COMPONENT_LABEL,
  EXPIRES_AT_ANNOTATION,
  EXPIRES_BUCKET_LABEL,
  expiryBucket,
  MANAGED_BY,
  STAGE_LABEL,
  STAGE_NAMESPACE_LABEL,
  THROTTLE_COMPONENT,
  THROTTLE_KIND_LABEL,
  THROTTLE_SECRET_TYPE,
} from "../kinds/labels.ts";
import { isAlreadyExists, isConflict, isNotFound } from "@emailauth/operator-runtime";
import type { Clock } from "@emailauth/operator-runtime";

const HOUR_MS = 3_600_000;
export const FAILURE_WINDOW_MS = 24 * HOUR_MS;
export const SEND_WINDOW_MS = HOUR_MS;
/** Far above any sane limit; bounds the Secret whatever happens. */
export const MAX_ENTRIES = 200;
/**
 * Read-and-write rounds before giving up on a counter many requests write at once. Every round
 * has a winner and the limit ends the race for everyone after `limit` winners, so this is only
 * reached under a flood; the caller then answers "busy, retry" (never a 5xx).
 */
const WRITE_ROUNDS = 64;
const RECORD_KEY = "record";

/** An entry: when, an id to give it back by, and (for sends) the execution that sent. */
const entry = z.strictObject({ at: z.iso.datetime(), id: z.string().max(32), x: z.string().max(64).optional() });
/** Older counters held bare timestamps; they still count (and cannot be given back). */
const stored = z.array(z.union([z.iso.datetime(), entry])).max(10_000);
type Entry = z.infer<typeof entry>;

export interface FailureIdentity {
  namespace: string;
  stage: string;
  userId: string;
}

export interface SendIdentity {
  namespace: string;
  addressKey: string;
}

type Counter = "failures" | "sends";

interface Target {
  counter: Counter;
  namespace: string;
  name: string;
  /**
   * Also how long an entry is kept, and the counter after its newest entry: past its window an
   * entry no longer counts (a send counter lives an hour, a failure counter a day).
   */
  windowMs: number;
  labels: Record<string, string>;
}

/** A counter as read or written: its entries, and its resourceVersion (none: it does not exist). */
interface CounterState {
  entries: Entry[];
  resourceVersion?: string;
}

/** A granted budget entry, to give back if the act it paid for did not happen. */
export interface Slot {
  readonly target: Target;
  readonly id: string;
}

export type Reservation =
  | { ok: true; slot: Slot; /** entries in the window, this one included */ count: number }
  | { ok: false; retryAt: Date; /** entries in the window that `tag` made */ own: number };

/** A counter too contended to write within the rounds; the request should be retried. */
export class ContendedError extends Error {
  override name = "ContendedError";
}

/** `eao-t-` and 32 hex characters of HMAC-SHA-256 over the JSON-encoded identity. */
export function throttleName(key: HmacKey, identity: readonly string[]): string {
  return `eao-t-${createHmac("sha256", key).update(JSON.stringify(identity), "utf8").digest("hex").slice(0, 32)}`;
}

/** The entries inside the window ending now, as sorted epoch milliseconds. */
export function inWindow(entries: readonly string[], now: Date, windowMs: number): number[] {
  const since = now.getTime() - windowMs;
  return entries
    .map((e) => Date.parse(e))
    .filter((t) => t > since)
    .sort((a, b) => a - b);
}

/** When enough entries leave the window for the count to drop below `limit`; undefined if it already is. */
export function retryAtOf(sortedMs: readonly number[], windowMs: number, limit: number): Date | undefined {
  if (sortedMs.length < limit) return undefined;
  const leaving = sortedMs[sortedMs.length - limit] ?? 0;
  return new Date(leaving + windowMs);
}

export interface ThrottleOptions {
  /**
   * Where the counters live: the operator's own namespace. Their names are HMACs over identities
   * that include the stage's namespace, so counters of different namespaces never meet.
   */
  namespace: string;
  /** Pause between rounds of a contended write (jittered by the caller's randomness). */
  pause?: (ms: number) => Promise<void>;
  /** How many counters this replica remembers as it last saw them (default 1,024). */
  remembered?: number;
}

export class Throttles {
  readonly #core: CoreApi;
  readonly #clock: Clock;
  readonly #key: KeyObject;
  readonly #pause: (ms: number) => Promise<void>;
  readonly #namespace: string;
  /**
   * Each counter as this replica last read or wrote it. A write starts from that instead of a
   * read: every write is guarded (create fails on an existing counter, replace and delete on a
   * changed one), so a stale memory costs one refused write and a read, never a wrong count.
   * A flow gives back its wrong-code slot and a user's next mail follows their last: most
   * writes need no read.
   */
  readonly #seen: RecentCounters;

  constructor(core: CoreApi, clock: Clock, key: Buffer, options: ThrottleOptions) {
    this.#core = core;
    this.#clock = clock;
    this.#key = createSecretKey(key); // imported once, not by every HMAC
    this.#namespace = options.namespace;
    this.#seen = new RecentCounters(options.remembered ?? 1024);
    this.#pause = options.pause ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * Takes one wrong-code slot of this user on this stage, if fewer than `limit` are taken in 24 h;
   * `tag` names the code being judged, so a refusal tells how many slots that code holds itself.
   */
  reserveFailure(id: FailureIdentity, limit: number, tag?: string): Promise<Reservation> {
    return this.#reserve(this.#failures(id), limit, tag);
  }

  /** Takes one mail to this address, if fewer than `limit` went in the hour; `execution` tags it. */
  reserveSend(id: SendIdentity, limit: number, execution: string): Promise<Reservation> {
    return this.#reserve(this.#sends(id), limit, execution);
  }

  /** Gives a slot back; gone already is fine. */
  async release(slot: Slot): Promise<void> {
    await this.#write(slot.target, (entries) => {
      const kept = entries.filter((e) => e.id !== slot.id);
      return kept.length === entries.length ? undefined : kept;
    });
  }

  async failures(id: FailureIdentity): Promise<number> {
    const t = this.#failures(id);
    return windowed((await this.#read(t)).entries, this.#clock.now(), t.windowMs).length;
  }

  async sends(id: SendIdentity): Promise<number> {
    const t = this.#sends(id);
    return windowed((await this.#read(t)).entries, this.#clock.now(), t.windowMs).length;
  }

  #failures(id: FailureIdentity): Target {
    return {
      counter: "failures",
      namespace: this.#namespace,
      name: throttleName(this.#key, ["failures", id.namespace, id.stage, id.userId]),
      windowMs: FAILURE_WINDOW_MS,
      labels: { [STAGE_NAMESPACE_LABEL]: id.namespace, [STAGE_LABEL]: id.stage },
    };
  }

  #sends(id: SendIdentity): Target {
    return {
      counter: "sends",
      namespace: this.#namespace,
      name: throttleName(this.#key, ["sends", id.namespace, id.addressKey]),
      windowMs: SEND_WINDOW_MS,
      labels: { [STAGE_NAMESPACE_LABEL]: id.namespace },
    };
  }

  async #reserve(t: Target, limit: number, tag?: string): Promise<Reservation> {
    const id = randomBytes(8).toString("hex");
    let result: Reservation | undefined;
    await this.#write(t, (entries, now) => {
      const live = windowed(entries, now, t.windowMs);
      const retryAt = retryAtOf(
        live.map((e) => Date.parse(e.at)),
        t.windowMs,
        limit,
      );
      if (retryAt) {
        result = { ok: false, retryAt, own: tag ? live.filter((e) => e.x === tag).length : 0 };
        return undefined;
      }
      result = { ok: true, slot: { target: t, id }, count: live.length + 1 };
      return [...entries, { at: now.toISOString(), id, ...(tag ? { x: tag } : {}) }];
    });
    if (!result) throw new Error("unreachable: a reservation round always decides");
    return result;
  }

  /**
   * Read (or recall), change, write back with the resourceVersion read (or create); a lost race
   * reads again. `change` returns the new entries, or undefined to write nothing. Only a write
   * may start from memory or the watch cache: it is guarded. Deciding to write nothing (a
   * refusal) is not, so that decision is taken again from a fresh read; another replica may have
   * given entries back.
   */
  async #write(t: Target, change: (entries: Entry[], now: Date) => Entry[] | undefined): Promise<void> {
    for (let round = 1; ; round++) {
      // The first round may start from memory, or else from the API server's watch cache (no
      // quorum read of etcd): either is at most a little behind, and the write is guarded.
      const remembered = round === 1 ? this.#seen.get(t.name) : undefined;
      const fresh = round > 1;
      const { entries, resourceVersion } = remembered ?? (await this.#read(t, fresh ? "fresh" : "cached"));
      const now = this.#clock.now();
      const kept = windowed(entries, now, t.windowMs);
      const next = change(kept, now)?.slice(-MAX_ENTRIES);
      if (!next && !fresh) continue;
      if (!next) return;
      const body = this.#encode(t, next, resourceVersion);
      try {
        // The last entry given back: nothing of the budget stays behind.
        if (next.length === 0 && resourceVersion) {
          await this.#core.deleteNamespacedSecret({
            namespace: t.namespace,
            name: t.name,
            body: { preconditions: { resourceVersion } },
          });
          this.#seen.set(t.name, { entries: [] });
          return;
        }
        const saved = resourceVersion
          ? await this.#core.replaceNamespacedSecret({ namespace: t.namespace, name: t.name, body })
          : await this.#core.createNamespacedSecret({ namespace: t.namespace, body });
        const savedVersion = saved.metadata?.resourceVersion;
        if (savedVersion) this.#seen.set(t.name, { entries: next, resourceVersion: savedVersion });
        else this.#seen.delete(t.name);
        return;
      } catch (e) {
        this.#seen.delete(t.name);
        // 409 on replace or create, or 404 when the sweeper deleted it between read and write.
        if (!(isConflict(e) || isAlreadyExists(e) || isNotFound(e))) throw e;
        if (round >= WRITE_ROUNDS) throw new ContendedError(`throttle ${t.counter} is too contended`);
        await this.#pause(Math.floor(Math.random() * Math.min(50, 2 * round)));
      }
    }
  }

  /**
   * A "cached" read is served from the API server's watch cache (resourceVersion 0): no quorum
   * read of etcd, but possibly a moment behind, so only a guarded write may follow from it.
   */
  async #read(t: Target, from: "fresh" | "cached" = "fresh"): Promise<CounterState> {
    const list = await this.#core.listNamespacedSecret({
      namespace: t.namespace,
      fieldSelector: `metadata.name=${t.name}`,
      ...(from === "cached" ? { resourceVersion: "0" } : {}),
    });
    const secret = list.items[0];
    const resourceVersion = secret?.metadata?.resourceVersion;
    const state = secret
      ? { entries: this.#decode(t, secret), ...(resourceVersion ? { resourceVersion } : {}) }
      : { entries: [] };
    this.#seen.set(t.name, state);
    return state;
  }

  /** A damaged counter fails closed (an error), rather than silently reading as zero. */
  #decode(t: Target, secret: Secret): Entry[] {
    const raw = secret.data?.[RECORD_KEY];
    let parsed: unknown;
    try {
      parsed =
        secret.type === THROTTLE_SECRET_TYPE && raw
          ? JSON.parse(Buffer.from(raw, "base64").toString("utf8"))
          : undefined;
    } catch {
      parsed = undefined;
    }
    const result = stored.safeParse(parsed);
    if (!result.success)
      throw new Error(
        `throttle Secret ${t.namespace}/${t.name} (${t.counter}) is malformed; delete it to reset the counter`,
      );
    return result.data.map((e) => (typeof e === "string" ? { at: e, id: "" } : e));
  }

  #encode(t: Target, entries: readonly Entry[], resourceVersion?: string): Secret {
    const newest = Math.max(this.#clock.now().getTime(), ...entries.map((e) => Date.parse(e.at)));
    const expires = newest + t.windowMs;
    return {
      metadata: {
        name: t.name,
        namespace: t.namespace,
        labels: {
          ...MANAGED_BY,
          [COMPONENT_LABEL]: THROTTLE_COMPONENT,
          [THROTTLE_KIND_LABEL]: t.counter,
          ...t.labels,
          [EXPIRES_BUCKET_LABEL]: expiryBucket(expires),
        },
        annotations: { [EXPIRES_AT_ANNOTATION]: new Date(expires).toISOString() },
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      type: THROTTLE_SECRET_TYPE,
      data: { [RECORD_KEY]: Buffer.from(JSON.stringify(entries), "utf8").toString("base64") },
    };
  }
}

/** Entries inside the window ending now, oldest first. */
function windowed(entries: readonly Entry[], now: Date, windowMs: number): Entry[] {
  const since = now.getTime() - windowMs;
  return entries.filter((e) => Date.parse(e.at) > since).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** The most recently used counter states, at most `max` (the oldest forgotten first). */
class RecentCounters {
  readonly #max: number;
  readonly #states = new Map<string, CounterState>();

  constructor(max: number) {
    this.#max = max;
  }

  get(name: string): CounterState | undefined {
    const state = this.#states.get(name);
    if (state) this.set(name, state);
    return state;
  }

  set(name: string, state: CounterState): void {
    this.#states.delete(name);
    this.#states.set(name, state);
    if (this.#states.size > this.#max) this.#states.delete(this.#states.keys().next().value as string);
  }

  delete(name: string): void {
    this.#states.delete(name);
  }
}
