// Accept-Language (RFC 9110 §12.5.4) with q-values, matched against the locales we ship by
// RFC 4647 lookup: "de-CH" falls back to "de"; "*" means any; q=0 means "not this one".

export interface LanguageRange {
  tag: string;
  q: number;
}

/** Headers are attacker-controlled: bounded work however long or odd the value is. */
const MAX_HEADER_LENGTH = 1024;
const MAX_RANGES = 32;
const TAG = /^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$/;
const QVALUE = /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/;

/** Ranges by preference (highest q first, header order among equals); malformed entries are dropped. */
export function parseAcceptLanguage(header: string | undefined): LanguageRange[] {
  if (!header || header.length > MAX_HEADER_LENGTH) return [];
  const ranges: LanguageRange[] = [];
  for (const part of header.split(",").slice(0, MAX_RANGES)) {
    const [rawTag = "", ...params] = part.split(";").map((s) => s.trim());
    if (!TAG.test(rawTag)) continue;
    let q = 1;
    let valid = true;
    for (const p of params) {
      const m = /^q=(.*)$/i.exec(p);
      if (!m) continue; // other parameters are not defined for this header; ignore them
      if (!QVALUE.test(m[1] ?? "")) valid = false;
      else q = Number(m[1]);
    }
    if (valid) ranges.push({ tag: rawTag.toLowerCase(), q });
  }
  // Array.prototype.sort is stable, so equal q keep the header's order.
  return ranges.sort((a, b) => b.q - a.q);
}

/**
 * The best supported locale for the ranges, or `fallback`. `supported` are lower-case
 * primary tags or full tags ("en", "de", "pt-br").
 */
export function lookupLocale<L extends string>(
  ranges: readonly LanguageRange[],
  supported: readonly L[],
  fallback: L,
): L {
  const refused = new Set(ranges.filter((r) => r.q === 0).map((r) => r.tag));
  const allowed = (l: L) => !refused.has(l);
  for (const { tag, q } of ranges) {
    if (q === 0) continue;
    if (tag === "*") return allowed(fallback) ? fallback : (supported.find(allowed) ?? fallback);
    // RFC 4647 §3.4 lookup: drop subtags from the end until something matches.
    const subtags = tag.split("-");
    for (let n = subtags.length; n > 0; n--) {
      const candidate = subtags.slice(0, n).join("-");
      const hit = supported.find((l) => l === candidate);
      if (hit && allowed(hit)) return hit;
    }
  }
  return fallback;
}
