// Sliding-window counters in Secrets: failed code checks per (namespace, stage, user) over 24 h,
// which survive resends and new executions, and sends per (namespace, address) over 1 h. A
// counter's Secret is named by an HMAC of its identity under the code key, so neither the user
// id nor the address appears in a name or label, and nobody without the key can find a user's.
import { createHmac } from "node:crypto";
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node";
import { z } from "zod";
import {
  COMPONENT_LABEL,
  EXPIRES_AT_ANNOTATION,
  MANAGED_BY,
  STAGE_LABEL,
  THROTTLE_COMPONENT,
  THROTTLE_KIND_LABEL,
  THROTTLE_SECRET_TYPE,
} from "../kinds/labels.ts";
import { isAlreadyExists, isConflict, isNotFound } from "@emailauth/operator-runtime";
import type { Clock } from "@emailauth/operator-runtime";

const HOUR_MS = 3_600_000;
export const FAILURE_WINDOW_MS = 24 * HOUR_MS;
export const SEND_WINDOW_MS = HOUR_MS;
/** How long any entry is kept (and the Secret after its newest entry): the longest window. */
export const RETENTION_MS = 24 * HOUR_MS;
/** Far above any sane limit; bounds the Secret even if a caller records without checking. */
export const MAX_ENTRIES = 200;
/**
 * Read-modify-write rounds before a 409 is given up on and thrown. Every round has a winner, so
 * N writers racing on one counter all land within N rounds; verify admits at most attemptsPerCode
 * concurrent failures per challenge, far fewer than this.
 */
const WRITE_ROUNDS = 32;
const RECORD_KEY = "record";
const timestamps = z.array(z.iso.datetime()).max(10_000);

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
  windowMs: number;
  labels: Record<string, string>;
}

/** `eao-t-` and 32 hex characters of HMAC-SHA-256 over the JSON-encoded identity. */
export function throttleName(key: Buffer, identity: readonly string[]): string {
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

export class Throttles {
  readonly #core: CoreV1Api;
  readonly #clock: Clock;
  readonly #key: Buffer;

  constructor(core: CoreV1Api, clock: Clock, key: Buffer) {
    this.#core = core;
    this.#clock = clock;
    this.#key = key;
  }

  async failures(id: FailureIdentity): Promise<number> {
    return (await this.#entries(this.#failures(id))).length;
  }

  /** Records one failure now; returns the failures in the window, this one included. */
  recordFailure(id: FailureIdentity): Promise<number> {
    return this.#record(this.#failures(id));
  }

  /** When this user may try again on this stage, if `limit` failures in 24 h are reached. */
  async retryAt(id: FailureIdentity, limit: number): Promise<Date | undefined> {
    return retryAtOf(await this.#entries(this.#failures(id)), FAILURE_WINDOW_MS, limit);
  }

  async sends(id: SendIdentity): Promise<number> {
    return (await this.#entries(this.#sends(id))).length;
  }

  /** Records one send now; returns the sends in the hour, this one included. */
  recordSend(id: SendIdentity): Promise<number> {
    return this.#record(this.#sends(id));
  }

  /** When the next mail to this address may go, if `limit` sends in the hour are reached. */
  async sendRetryAt(id: SendIdentity, limit: number): Promise<Date | undefined> {
    return retryAtOf(await this.#entries(this.#sends(id)), SEND_WINDOW_MS, limit);
  }

  #failures(id: FailureIdentity): Target {
    return {
      counter: "failures",
      namespace: id.namespace,
      name: throttleName(this.#key, ["failures", id.namespace, id.stage, id.userId]),
      windowMs: FAILURE_WINDOW_MS,
      labels: { [STAGE_LABEL]: id.stage },
    };
  }

  #sends(id: SendIdentity): Target {
    return {
      counter: "sends",
      namespace: id.namespace,
      name: throttleName(this.#key, ["sends", id.namespace, id.addressKey]),
      windowMs: SEND_WINDOW_MS,
      labels: {},
    };
  }

  async #entries(t: Target): Promise<number[]> {
    const secret = await this.#read(t);
    return inWindow(secret ? this.#decode(t, secret) : [], this.#clock.now(), t.windowMs);
  }

  /** Read, append, write back with the resourceVersion read (or create); retried on 409. */
  async #record(t: Target): Promise<number> {
    for (let round = 1; ; round++) {
      const secret = await this.#read(t);
      const now = this.#clock.now();
      const kept = inWindow(secret ? this.#decode(t, secret) : [], now, RETENTION_MS);
      const next = [...kept, now.getTime()].sort((a, b) => a - b).slice(-MAX_ENTRIES);
      const body = this.#encode(t, next, secret?.metadata?.resourceVersion);
      try {
        if (secret) await this.#core.replaceNamespacedSecret({ namespace: t.namespace, name: t.name, body });
        else await this.#core.createNamespacedSecret({ namespace: t.namespace, body });
        return next.filter((ms) => ms > now.getTime() - t.windowMs).length;
      } catch (e) {
        const lostRace = secret ? isConflict(e) : isAlreadyExists(e);
        if (!lostRace) throw e;
        if (round >= WRITE_ROUNDS) throw e;
      }
    }
  }

  async #read(t: Target): Promise<V1Secret | undefined> {
    try {
      return await this.#core.readNamespacedSecret({ namespace: t.namespace, name: t.name });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  /** A damaged counter fails closed (an error), rather than silently reading as zero. */
  #decode(t: Target, secret: V1Secret): string[] {
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
    const result = timestamps.safeParse(parsed);
    if (!result.success)
      throw new Error(
        `throttle Secret ${t.namespace}/${t.name} (${t.counter}) is malformed; delete it to reset the counter`,
      );
    return result.data;
  }

  #encode(t: Target, entries: readonly number[], resourceVersion?: string): V1Secret {
    const newest = entries[entries.length - 1] ?? this.#clock.now().getTime();
    return {
      metadata: {
        name: t.name,
        namespace: t.namespace,
        labels: { ...MANAGED_BY, [COMPONENT_LABEL]: THROTTLE_COMPONENT, [THROTTLE_KIND_LABEL]: t.counter, ...t.labels },
        annotations: { [EXPIRES_AT_ANNOTATION]: new Date(newest + RETENTION_MS).toISOString() },
        ...(resourceVersion ? { resourceVersion } : {}),
      },
      type: THROTTLE_SECRET_TYPE,
      data: {
        [RECORD_KEY]: Buffer.from(JSON.stringify(entries.map((ms) => new Date(ms).toISOString())), "utf8").toString(
          "base64",
        ),
      },
    };
  }
}
