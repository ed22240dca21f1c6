// Response headers of every hosted page: a Content-Security-Policy that allows only our own
// stylesheet, scripts carrying this response's nonce (no inline script), images from the
// branding's logo origin, and forms that post to us (or redirect to the flow's returnTo, which
// Chrome checks against form-action too); no framing, no referrer, no caching.
import { randomBytes } from "node:crypto";

export function newNonce(random: (n: number) => Buffer = randomBytes): string {
  return random(16).toString("base64");
}

export interface CspOptions {
  nonce: string;
  imageOrigins?: readonly string[];
  /** Origins a form submission may end up at after our redirect (the execution's returnTo). */
  formTargets?: readonly string[];
}

export function contentSecurityPolicy(o: CspOptions): string {
  const nonce = `'nonce-${o.nonce}'`;
  return [
    "default-src 'none'",
    `script-src ${nonce}`,
    `style-src 'self' ${nonce}`,
    ["img-src 'self'", ...(o.imageOrigins ?? [])].join(" "),
    ["form-action 'self'", ...(o.formTargets ?? [])].join(" "),
    "connect-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

export function pageHeaders(o: CspOptions): Record<string, string> {
  return {
    "Content-Security-Policy": contentSecurityPolicy(o),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
  };
}
