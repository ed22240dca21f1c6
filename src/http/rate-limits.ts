// Request rate limits that protect this process and the API server behind it: per client
// address (every request), per execution (requests naming one), and one global budget for work
// an unauthenticated caller can make us do: a TokenReview for a token the cache has not seen, a
// Secret lookup for an execution id this replica has not seen exist. Limits live in memory per
// replica: they bound load, not the flow's budgets (those are in the API server, across replicas).
import { createHash } from "node:crypto";
import { BlockList, isIP } from "node:net";
import type { NextFunction, Request, Response } from "express";
import type { Clock } from "@emailauth/operator-runtime";
import { Problem, PROBLEM_CONTENT_TYPE, type ProblemCode } from "./problems.ts";
import { BucketSet, type Rate, type Taken } from "./token-bucket.ts";
import { LruCache } from "./lru-cache.ts";

export type RateLimitScope = "address" | "execution" | "unauthenticated";

export interface RateLimitMetrics {
  onRateLimited(scope: RateLimitScope): void;
}

export interface RateLimitOptions {
  perAddress: Rate;
  perExecution: Rate;
  /** Shared by every caller on this replica. */
  unauthenticated: Rate;
  /** Reverse proxies (addresses or CIDRs) whose X-Forwarded-For names the client. */
  trustedProxies?: readonly string[];
  clock: Clock;
  metrics?: RateLimitMetrics;
}

const COUNTED = "emailauthAddressCounted";

/** Answers given before (or without) finding the execution: they prove nothing about the id. */
const NOTHING_LEARNED = new Set<ProblemCode>([
  "not_found",
  "unauthorized",
  "forbidden",
  "invalid_request",
  "rate_limited",
  "internal_error",
]);

/**
 * How long an execution id seen to exist skips the global budget, after its last answered request:
 * longer than a user takes between two steps (a resend after the cooldown, typing a code).
 */
export const KNOWN_ID_TTL_MS = 5 * 60_000;

export class RateLimits {
  readonly #addresses: BucketSet;
  readonly #executions: BucketSet;
  readonly #global: BucketSet;
  readonly #knownIds: LruCache<true>;
  readonly #o: RateLimitOptions;
  readonly #proxies: BlockList;

  constructor(o: RateLimitOptions) {
    this.#o = o;
    this.#addresses = new BucketSet(o.perAddress);
    this.#executions = new BucketSet(o.perExecution);
    this.#global = new BucketSet(o.unauthenticated, 1);
    this.#proxies = blockListOf(o.trustedProxies ?? []);
    this.#knownIds = new LruCache<true>({ maxEntries: 50_000, clock: o.clock, ttlMs: () => KNOWN_ID_TTL_MS });
  }

  /**
   * Express middleware: one token per request from the client's address, counted once however
   * many apps it is mounted in (the hosted pages wrap the API). A refusal is answered here, as a
   * problem document, so it reads the same in front of any router.
   */
  readonly perAddress = (req: Request, res: Response, next: NextFunction): void => {
    if (res.locals[COUNTED] === true) return next();
    res.locals[COUNTED] = true;
    try {
      const client = clientAddress(req.socket.remoteAddress ?? "", req.get("x-forwarded-for"), this.#proxies);
      this.#check("address", this.#addresses.take(clientKey(client), this.#now()));
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      res
        .status(e.status)
        .set({ "Retry-After": String(e.retryAfter ?? 1), "Cache-Control": "no-store" })
        .type(PROBLEM_CONTENT_TYPE)
        .send(JSON.stringify(e.body(req.path)));
      return;
    }
    next();
  };

  /**
   * Before any work on execution `id`: its budget, and the global one unless the id is known to
   * exist. The budget is per id and credential, so a stranger who learnt an id (URLs end up in
   * histories and proxy logs) cannot use up the real user's; strangers meet the other limits.
   */
  execution(id: string, credential = ""): void {
    const who = createHash("sha256").update(credential).digest("hex").slice(0, 16);
    this.#check("execution", this.#executions.take(`${id}/${who}`, this.#now()));
    if (!this.#knownIds.has(id)) this.unauthenticatedWork();
  }

  /** After an answer that showed the execution exists: later requests for it skip the global budget. */
  knownExecution(id: string): void {
    // A fresh copy: the id as parsed is a slice of the request's URL, which would stay alive with it.
    this.#knownIds.set([...id].join(""), true);
  }

  /** `work` on execution `id` under its limits; an answer that shows the id exists remembers it. */
  async forExecution<T>(id: string, credential: string, work: () => Promise<T>): Promise<T> {
    this.execution(id, credential);
    try {
      const result = await work();
      this.knownExecution(id);
      return result;
    } catch (e) {
      if (e instanceof Problem && !NOTHING_LEARNED.has(e.code)) this.knownExecution(id);
      throw e;
    }
  }

  /** Work an unauthenticated caller causes (a TokenReview cache miss, an unknown id's lookup). */
  unauthenticatedWork(): void {
    this.#check("unauthenticated", this.#global.take("", this.#now()));
  }

  #now(): number {
    return this.#o.clock.now().getTime();
  }

  #check(scope: RateLimitScope, taken: Taken): void {
    if (taken.ok) return;
    this.#o.metrics?.onRateLimited(scope);
    const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    throw new Problem(
      "rate_limited",
      `too many requests (${SCOPE_TEXT[scope]}); retry after ${seconds} s`,
      {},
      seconds,
    );
  }
}

const SCOPE_TEXT: Record<RateLimitScope, string> = {
  address: "from this address",
  execution: "for this execution",
  unauthenticated: "needing verification",
};

/**
 * The bucket key of a client address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64,
 * the smallest block one subscriber usually gets, so rotating through it buys nothing.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (isIP(address) !== 6) return address;
  const [head = "", tail] = address.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

function blockListOf(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", bits] = entry.split("/");
    const type = isIP(address) === 6 ? "ipv6" : "ipv4";
    if (bits === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(bits), type);
  }
  return list;
}

const bare = (a: string) => /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a)?.[1] ?? a;

/**
 * The client behind trusted proxies: walk X-Forwarded-For from the right while the hop we got it
 * from is a trusted proxy (what Express's "trust proxy" does, independent of the app it runs in).
 */
export function clientAddress(peer: string, forwardedFor: string | undefined, proxies: BlockList): string {
  const trusted = (a: string) => {
    const b = bare(a);
    const family = isIP(b);
    return family !== 0 && proxies.check(b, family === 6 ? "ipv6" : "ipv4");
  };
  let client = bare(peer);
  const hops = (forwardedFor ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  while (trusted(client) && hops.length > 0) {
    const next = hops.pop() ?? "";
    if (isIP(bare(next)) === 0) break;
    client = bare(next);
  }
  return client;
}
