// The page session: after the launch link, the browser holds the session secret in an
// HttpOnly, SameSite=Lax cookie scoped to the execution's page path (Secure when served over
// TLS). Forms carry a CSRF token derived from the session secret with HMAC, so it is bound to
// the session, needs no storage, and cannot be computed by a page that cannot read the cookie.
import { createHmac, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "eao_session";
export const CSRF_FIELD = "csrf";
const COOKIE_VALUE = /^eaos_[A-Za-z0-9_-]{43}$/;
const MAX_COOKIE_HEADER = 8192;

export interface CookieOptions {
  path: string;
  secure: boolean;
  maxAgeSeconds: number;
}

export function sessionCookie(secret: string, o: CookieOptions): string {
  return [
    `${SESSION_COOKIE}=${secret}`,
    `Path=${o.path}`,
    `Max-Age=${Math.max(0, Math.floor(o.maxAgeSeconds))}`,
    "HttpOnly",
    "SameSite=Lax",
    ...(o.secure ? ["Secure"] : []),
  ].join("; ");
}

export function clearSessionCookie(o: Omit<CookieOptions, "maxAgeSeconds">): string {
  return sessionCookie("", { ...o, maxAgeSeconds: 0 });
}

/**
 * Well-formed session secrets in a Cookie header, most specific path first (the order browsers
 * send them). More than one can arrive when paths nest; the caller tries each.
 */
export function sessionSecrets(cookieHeader: string | undefined): string[] {
  if (!cookieHeader || cookieHeader.length > MAX_COOKIE_HEADER) return [];
  const found: string[] = [];
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    if (COOKIE_VALUE.test(value) && !found.includes(value)) found.push(value);
  }
  return found.slice(0, 4);
}

export function csrfToken(sessionSecret: string, executionId: string): string {
  return createHmac("sha256", sessionSecret).update(`csrf\0${executionId}`).digest("base64url");
}

export function csrfMatches(token: unknown, sessionSecret: string, executionId: string): boolean {
  if (typeof token !== "string" || token.length !== 43) return false;
  const expected = Buffer.from(csrfToken(sessionSecret, executionId));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
