// The browser hand-off: the start response carries a launch link with a one-time, short-lived
// launch token. Opening it exchanges the token for a page session (a random secret in an
// HttpOnly cookie), so no long-lived secret ever sits in a URL, a log or a Referer. Only
// SHA-256 hashes of both secrets are stored with the execution.
import { createHash, randomBytes as cryptoRandomBytes, timingSafeEqual } from "node:crypto";

export const LAUNCH_TOKEN_PREFIX = "eaol_";
export const SESSION_PREFIX = "eaos_";
/** Long enough for a redirect through a slow phone, short enough that a leaked link is useless. */
export const LAUNCH_TTL_SECONDS = 120;

const SECRET = /^eao[ls]_[A-Za-z0-9_-]{43}$/;

export type RandomBytes = (n: number) => Buffer;

export function newSecret(
  prefix: typeof LAUNCH_TOKEN_PREFIX | typeof SESSION_PREFIX,
  random: RandomBytes = cryptoRandomBytes,
): string {
  return prefix + random(32).toString("base64url");
}

export function secretHash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Well-formed and hashing to `hash`, compared in constant time. */
export function secretMatches(secret: string, hash: string | undefined): boolean {
  if (!hash || !SECRET.test(secret)) return false;
  const a = Buffer.from(secretHash(secret), "hex");
  const b = Buffer.from(hash, "hex");
  return a.length === b.length && timingSafeEqual(a, b);
}

/** What an execution keeps about its browser hand-off. */
export interface HandOffState {
  launchHash?: string | undefined;
  launchExpiresAt?: string | undefined;
  sessionHash?: string | undefined;
}

export type LaunchOutcome = { ok: true; next: HandOffState } | { ok: false; reason: "unknown" | "used" | "expired" };

/**
 * Exchanges a launch token for a page session. The caller writes `next` with a resourceVersion
 * precondition, so of two concurrent openings of one link exactly one wins.
 */
export function redeemLaunch(state: HandOffState, token: string, sessionSecret: string, now: Date): LaunchOutcome {
  if (!state.launchHash) return { ok: false, reason: state.sessionHash ? "used" : "unknown" };
  if (!secretMatches(token, state.launchHash)) return { ok: false, reason: "unknown" };
  if (!state.launchExpiresAt || Date.parse(state.launchExpiresAt) <= now.getTime())
    return { ok: false, reason: "expired" };
  return {
    ok: true,
    next: { launchHash: undefined, launchExpiresAt: undefined, sessionHash: secretHash(sessionSecret) },
  };
}

/** A fresh launch for an execution: the token to hand out and what to store. */
export function newLaunch(now: Date, random: RandomBytes = cryptoRandomBytes): { token: string; state: HandOffState } {
  const token = newSecret(LAUNCH_TOKEN_PREFIX, random);
  return {
    token,
    state: {
      launchHash: secretHash(token),
      launchExpiresAt: new Date(now.getTime() + LAUNCH_TTL_SECONDS * 1000).toISOString(),
    },
  };
}

/** Where a launch link points, relative to the operator's public URL. */
export function launchUrlPath(publicId: string, token: string): string {
  return `/pages/launch/${encodeURIComponent(publicId)}?token=${encodeURIComponent(token)}`;
}
