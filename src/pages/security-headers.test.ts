import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, newNonce, pageHeaders } from "./security-headers.ts";

describe("page security headers", () => {
  it("allow scripts only with the nonce, never inline, and forbid framing", () => {
    const csp = contentSecurityPolicy({
      nonce: "abc",
      imageOrigins: ["https://cdn.example.com"],
      formTargets: ["https://app.example.com"],
    });
    expect(csp).toBe(
      "default-src 'none'; script-src 'nonce-abc'; style-src 'self' 'nonce-abc'; img-src 'self' https://cdn.example.com; form-action 'self' https://app.example.com; connect-src 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
  });

  it("set no-referrer, no-store and nosniff", () => {
    expect(pageHeaders({ nonce: "n" })).toMatchObject({
      "Referrer-Policy": "no-referrer",
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
    });
  });

  it("make a fresh 128-bit nonce each time", () => {
    const a = newNonce();
    expect(Buffer.from(a, "base64")).toHaveLength(16);
    expect(newNonce()).not.toBe(a);
  });
});
