// Where the browser goes back to after a hosted flow. The flow's owner declares exact URLs
// (origin and path, no wildcards); a start request's `returnTo` must match one of them. Checked
// on the raw string before any URL parsing, because parsers repair input (backslashes become
// slashes, "../" disappears, tabs vanish) and a repaired URL is not the one that was declared.

export const MAX_RETURN_TO_LENGTH = 2048;

/** http is only for the developer's own machine. */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const RAW = /^(https?):\/\/([^/?#]+)(\/[^?#]*)?(\?[^#]*)?(#.*)?$/i;
/** Path characters as RFC 3986 allows them, less percent-encoded dots and slashes. */
const PATH = /^\/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-Fa-f]{2})*$/;
const QUERY = /^\?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*$/;

export type ReturnToEntry = { origin: string; path: string };
export type Checked<T> = { ok: true; value: T } | { ok: false; reason: string };

const no = <T>(reason: string): Checked<T> => ({ ok: false, reason });

/** Splits and checks an absolute URL; `allowQuery` is false for allow-list entries. */
function split(raw: string, allowQuery: boolean): Checked<{ origin: string; path: string; query: string }> {
  if (raw.length > MAX_RETURN_TO_LENGTH) return no(`longer than ${MAX_RETURN_TO_LENGTH} characters`);
  // Control characters, spaces and backslashes are refused, not cleaned (see the file comment).
  if (/[\s\\\p{C}]/u.test(raw)) return no("contains spaces, control characters or backslashes");
  const m = RAW.exec(raw);
  if (!m) return no("is not an absolute http(s) URL with a host");
  const scheme = (m[1] ?? "").toLowerCase();
  const authority = m[2] ?? "";
  const path = m[3] ?? "/";
  const query = m[4] ?? "";
  if (m[5] !== undefined) return no("has a fragment (#)");
  if (query && !allowQuery) return no("has a query (?); declare the path only");
  if (authority.includes("@")) return no("has user information (@) before the host");
  const hp = /^(\[::1\]|[^:]+)(?::([0-9]{1,5}))?$/.exec(authority.toLowerCase());
  if (!hp) return no("has a malformed host or port");
  const host = hp[1] ?? "";
  if (host.includes("*")) return no("has a wildcard in the host; list each host");
  if (host !== "[::1]" && !HOST.test(host)) return no("has a host that is not a plain DNS name");
  if (/^[0-9.]+$/.test(host) && host !== "127.0.0.1") return no("uses an IP address as host");
  const port = hp[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return no("has a port out of range");
  if (scheme === "http" && !LOOPBACK_HOSTS.has(host)) return no("uses http; only https is allowed (http for loopback)");
  if (!PATH.test(path)) return no("has a path with characters that are not allowed");
  if (/%2f|%5c|%2e/i.test(path)) return no("has an encoded slash, backslash or dot in the path");
  if (path.split("/").some((s) => s === "." || s === "..")) return no("has . or .. segments in the path");
  if (query && !QUERY.test(query)) return no("has a query with characters that are not allowed");
  const defaultPort = scheme === "https" ? "443" : "80";
  const origin = `${scheme}://${host}${port !== undefined && Number(port) !== Number(defaultPort) ? `:${Number(port)}` : ""}`;
  return { ok: true, value: { origin, path, query } };
}

/** Parses one allow-list entry as the flow's owner wrote it. */
export function parseAllowListEntry(raw: string): Checked<ReturnToEntry> {
  const r = split(raw, false);
  if (!r.ok) return no(`${JSON.stringify(raw.slice(0, 100))} ${r.reason}`);
  return { ok: true, value: { origin: r.value.origin, path: r.value.path } };
}

/**
 * Checks a start request's `returnTo` against the declared entries (exact origin, exact path;
 * a query is allowed and kept). Returns the URL in normalised form.
 */
export function matchReturnTo(candidate: string, allowList: readonly string[]): Checked<string> {
  const r = split(candidate, true);
  if (!r.ok) return no(`returnTo ${r.reason}`);
  const { origin, path, query } = r.value;
  for (const raw of allowList) {
    const entry = parseAllowListEntry(raw);
    if (entry.ok && entry.value.origin === origin && entry.value.path === path)
      return { ok: true, value: `${origin}${path}${query}` };
  }
  return no("returnTo is not in the flow's allow-list (exact origin and path)");
}

/** The URL the browser is sent to with the signed result; our parameters replace any of the same name. */
export function resultUrl(returnTo: string, params: Readonly<Record<string, string>>): string {
  const url = new URL(returnTo);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}
