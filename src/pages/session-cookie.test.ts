import { describe, expect, it } from "vitest";
import { newSecret, SESSION_PREFIX } from "../hand-off/launch.ts";
import { clearSessionCookie, csrfMatches, csrfToken, sessionCookie, sessionSecrets } from "./session-cookie.ts";

const secret = newSecret(SESSION_PREFIX);
const id = "default.0123456789abcdef0123456789abcdef";

describe("session cookie", () => {
  it("is HttpOnly, SameSite=Lax, scoped to the execution's path, Secure over TLS", () => {
    expect(sessionCookie(secret, { path: `/pages/x/${id}/`, secure: true, maxAgeSeconds: 600.7 })).toBe(
      `eao_session=${secret}; Path=/pages/x/${id}/; Max-Age=600; HttpOnly; SameSite=Lax; Secure`,
    );
    expect(sessionCookie(secret, { path: "/p/", secure: false, maxAgeSeconds: 1 })).not.toContain("Secure");
    expect(clearSessionCookie({ path: "/p/", secure: false })).toBe(
      "eao_session=; Path=/p/; Max-Age=0; HttpOnly; SameSite=Lax",
    );
  });

  it("reads only well-formed session values from hostile headers", () => {
    const other = newSecret(SESSION_PREFIX);
    expect(sessionSecrets(`a=b; eao_session=${secret}; eao_session=${other}; eao_session=${secret}`)).toEqual([
      secret,
      other,
    ]);
    expect(sessionSecrets("eao_session=eaos_short; eao_session=<script>")).toEqual([]);
    expect(sessionSecrets(`xeao_session=${secret}`)).toEqual([]);
    expect(sessionSecrets(`eao_session=${secret}${"x".repeat(9000)}`)).toEqual([]);
    expect(sessionSecrets(undefined)).toEqual([]);
  });
});

describe("CSRF token", () => {
  it("is bound to the session and to the execution", () => {
    const token = csrfToken(secret, id);
    expect(csrfMatches(token, secret, id)).toBe(true);
    expect(csrfMatches(token, newSecret(SESSION_PREFIX), id)).toBe(false);
    expect(csrfMatches(token, secret, "default.ffffffffffffffffffffffffffffffff")).toBe(false);
    expect(csrfMatches(undefined, secret, id)).toBe(false);
    expect(csrfMatches(["x"], secret, id)).toBe(false);
    expect(csrfMatches("", secret, id)).toBe(false);
  });
});
