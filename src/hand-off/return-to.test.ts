import { describe, expect, it } from "vitest";
import { matchReturnTo, parseAllowListEntry, resultUrl } from "./return-to.ts";

const allow = ["https://app.example.com/callback", "http://localhost:3000/done", "https://app.example.com:8443/cb"];
const ok = (c: string) => matchReturnTo(c, allow);

describe("matchReturnTo", () => {
  it("accepts exact origin and path, with a query, in normalised form", () => {
    expect(ok("https://app.example.com/callback")).toEqual({ ok: true, value: "https://app.example.com/callback" });
    expect(ok("HTTPS://APP.example.COM:443/callback?x=1&y=%20")).toEqual({
      ok: true,
      value: "https://app.example.com/callback?x=1&y=%20",
    });
    expect(ok("http://localhost:3000/done")).toMatchObject({ ok: true });
    expect(ok("https://app.example.com:8443/cb")).toMatchObject({ ok: true });
  });

  it.each([
    ["another path", "https://app.example.com/callback/extra"],
    ["a path prefix", "https://app.example.com/call"],
    ["trailing slash", "https://app.example.com/callback/"],
    ["path case", "https://app.example.com/Callback"],
    ["another port", "https://app.example.com:444/callback"],
    ["http downgrade", "http://app.example.com/callback"],
    ["suffix host", "https://app.example.com.evil.com/callback"],
    ["prefix host", "https://evilapp.example.com/callback"],
    ["subdomain", "https://x.app.example.com/callback"],
    ["trailing dot host", "https://app.example.com./callback"],
    ["userinfo", "https://app.example.com@evil.com/callback"],
    ["userinfo on the right host", "https://evil@app.example.com/callback"],
    ["scheme-relative", "//app.example.com/callback"],
    ["relative", "/callback"],
    ["javascript", "javascript:alert(1)//https://app.example.com/callback"],
    ["data", "data:text/html,<script>alert(1)</script>"],
    ["backslash", "https://app.example.com\\@evil.com/callback"],
    ["backslash path", "https://app.example.com/callback\\..\\x"],
    ["tab inside", "https://app.exa\tmple.com/callback"],
    ["newline", "https://app.example.com/callback\n"],
    ["leading space", " https://app.example.com/callback"],
    ["dot segments", "https://app.example.com/x/../callback"],
    ["encoded dot segments", "https://app.example.com/%2e%2e/callback"],
    ["encoded slash", "https://app.example.com/callback%2fx"],
    ["fragment", "https://app.example.com/callback#x"],
    ["wildcard host", "https://*.example.com/callback"],
    ["ip address", "https://93.184.216.34/callback"],
    ["unicode host", "https://аpp.example.com/callback"],
    ["punycode look-alike", "https://xn--pp-8cd.example.com/callback"],
    ["zero-width", "https://app.example.com/call\u200bback"],
    ["port overflow", "https://app.example.com:99999/cb"],
    ["empty", ""],
    ["too long", `https://app.example.com/callback?${"a".repeat(3000)}`],
  ])("refuses %s", (_name, candidate) => {
    expect(ok(candidate).ok).toBe(false);
  });

  it("explains the refusal", () => {
    expect(ok("https://evil.com/callback")).toEqual({
      ok: false,
      reason: "returnTo is not in the flow's allow-list (exact origin and path)",
    });
    const http = ok("http://app.example.com/callback");
    expect(http.ok ? "" : http.reason).toContain("https");
  });

  it("matches nothing against an empty or broken allow-list", () => {
    expect(matchReturnTo("https://app.example.com/callback", []).ok).toBe(false);
    expect(matchReturnTo("https://app.example.com/callback", ["https://*.example.com/callback"]).ok).toBe(false);
  });
});

describe("parseAllowListEntry", () => {
  it("takes origins and paths and refuses wildcards, queries and plain http", () => {
    expect(parseAllowListEntry("https://App.Example.com/cb")).toEqual({
      ok: true,
      value: { origin: "https://app.example.com", path: "/cb" },
    });
    expect(parseAllowListEntry("https://app.example.com")).toMatchObject({ ok: true, value: { path: "/" } });
    expect(parseAllowListEntry("https://*.example.com/cb").ok).toBe(false);
    expect(parseAllowListEntry("https://app.example.com/cb?x=1").ok).toBe(false);
    expect(parseAllowListEntry("http://app.example.com/cb").ok).toBe(false);
    expect(parseAllowListEntry("http://127.0.0.1:8080/cb").ok).toBe(true);
    expect(parseAllowListEntry("http://[::1]:8080/cb").ok).toBe(true);
  });
});

describe("resultUrl", () => {
  it("adds the parameters and replaces any the application put there", () => {
    expect(resultUrl("https://app.example.com/cb?a=1&result=forged", { result: "x.y.z" })).toBe(
      "https://app.example.com/cb?a=1&result=x.y.z",
    );
  });
});
