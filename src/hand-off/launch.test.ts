import { describe, expect, it } from "vitest";
import { newLaunch, newSecret, redeemLaunch, secretHash, secretMatches, SESSION_PREFIX } from "./launch.ts";

const now = new Date("2026-12-01T10:00:00Z");
const later = (s: number) => new Date(now.getTime() + s * 1000);

describe("launch tokens", () => {
  it("redeem once, within the lifetime, for a session", () => {
    const { token, state } = newLaunch(now);
    const session = newSecret(SESSION_PREFIX);
    const first = redeemLaunch(state, token, session, later(5));
    expect(first).toEqual({
      ok: true,
      next: { launchHash: undefined, launchExpiresAt: undefined, sessionHash: secretHash(session) },
    });
    if (!first.ok) throw new Error("unreachable");
    expect(redeemLaunch(first.next, token, newSecret(SESSION_PREFIX), later(6))).toEqual({ ok: false, reason: "used" });
  });

  it("refuse an expired, a wrong or a malformed token", () => {
    const { token, state } = newLaunch(now);
    const session = newSecret(SESSION_PREFIX);
    expect(redeemLaunch(state, token, session, later(120))).toEqual({ ok: false, reason: "expired" });
    expect(redeemLaunch(state, newLaunch(now).token, session, later(1))).toEqual({ ok: false, reason: "unknown" });
    expect(redeemLaunch(state, token + "x", session, later(1))).toEqual({ ok: false, reason: "unknown" });
    expect(redeemLaunch({}, token, session, later(1))).toEqual({ ok: false, reason: "unknown" });
  });

  it("store only hashes, and compare only well-formed secrets", () => {
    const { token, state } = newLaunch(now);
    expect(JSON.stringify(state)).not.toContain(token.slice(5));
    expect(secretMatches(token, state.launchHash)).toBe(true);
    expect(secretMatches(token, undefined)).toBe(false);
    expect(secretMatches("eaol_short", secretHash("eaol_short"))).toBe(false);
    expect(secretMatches(token, "abc")).toBe(false);
  });

  it("use the injected randomness", () => {
    const zero = (n: number) => Buffer.alloc(n);
    expect(newSecret(SESSION_PREFIX, zero)).toBe(`eaos_${"A".repeat(43)}`);
  });
});
