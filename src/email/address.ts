// Email addresses from users: a strict allow-list, a normalised form that mail goes to, a
// comparison key, the mask shown in challenges, and display names safe for an address header.
// Strict on purpose: every character refused here is one that a mail library's parser could
// read differently from us (header injection, comments, quoted local parts, misdelivery).
import { domainToASCII, domainToUnicode } from "node:url";
import { EMAIL_PATTERN } from "../kinds/v1alpha1/common.ts";

export type ParsedAddress = { ok: true; address: string; key: string } | { ok: false; reason: string };

export const MAX_ADDRESS_LENGTH = 254;
export const MAX_LOCAL_LENGTH = 64;
export const MAX_LABEL_LENGTH = 63;
export const MAX_DISPLAY_NAME_LENGTH = 128;

const STORED_ADDRESS = new RegExp(EMAIL_PATTERN);
/** RFC 5322 atext as EMAIL_PATTERN allows it (no backtick): the dot-atom's characters. */
const ATEXT = /^[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+$/;
/** Letters, marks and digits of any script, and hyphens: what an IDN label may be typed with. */
const DOMAIN_LABEL_INPUT = /^[\p{L}\p{M}\p{Nd}-]+$/u;
/** Control, format (zero-width, bidi overrides, soft hyphen), surrogate, private and unassigned. */
const INVISIBLE = /\p{C}/u;
/** Characters that end or split an address in a header, named so the reason helps the user. */
const SPECIALS: readonly [RegExp, string][] = [
  [/["\\]/, "quotes and backslashes are not allowed"],
  [/[()]/, "comments (parentheses) are not allowed"],
  [/[<>]/, "angle brackets are not allowed"],
  [/[,;]/, "only one address is allowed (no commas or semicolons)"],
  [/[\s]/u, "spaces are not allowed inside an address"],
  [/[[\]]/, "IP-address literals are not allowed as a domain"],
];

const fail = (reason: string): ParsedAddress => ({ ok: false, reason });

/**
 * Parses what a user typed. Only surrounding spaces and tabs are trimmed: a newline anywhere,
 * even at the end, is refused rather than cleaned, so nothing suspicious is silently accepted.
 */
export function parseAddress(input: string): ParsedAddress {
  const value = input.replace(/^[ \t]+|[ \t]+$/g, "");
  if (!value) return fail("the address is empty");
  // Cheap bound before any work; IDN conversion can shrink astral characters at most twofold.
  if (value.length > 2 * MAX_ADDRESS_LENGTH) return fail(`the address is longer than ${MAX_ADDRESS_LENGTH} characters`);
  if (INVISIBLE.test(value)) return fail("control or invisible characters are not allowed");
  for (const [pattern, reason] of SPECIALS) if (pattern.test(value)) return fail(reason);
  const at = value.indexOf("@");
  if (at < 0) return fail("the address needs an @ and a domain");
  if (value.indexOf("@", at + 1) >= 0) return fail("the address has more than one @");
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);

  const localProblem = checkLocal(local);
  if (localProblem) return fail(localProblem);
  const ascii = toAsciiDomain(domain);
  if (!ascii.ok) return ascii;

  const address = `${local}@${ascii.domain}`;
  if (address.length > MAX_ADDRESS_LENGTH) return fail(`the address is longer than ${MAX_ADDRESS_LENGTH} characters`);
  // The checks above give a precise reason; this guarantees the CRDs accept what we store.
  if (!STORED_ADDRESS.test(address)) return fail("the address is not a plain user@domain address");
  // The local part is ASCII, so lower-casing the whole address is a complete case fold.
  return { ok: true, address, key: addressKey(address) };
}

function checkLocal(local: string): string | undefined {
  if (!local) return "the part before the @ is empty";
  // SMTPUTF8 local parts are refused: relays disagree on them and they invite homoglyphs.
  if (/[^\x20-\x7e]/.test(local)) return "the part before the @ must be ASCII";
  if (local.length > MAX_LOCAL_LENGTH) return `the part before the @ is longer than ${MAX_LOCAL_LENGTH} characters`;
  if (local.startsWith(".") || local.endsWith(".")) return "the part before the @ cannot start or end with a dot";
  if (local.includes("..")) return "the part before the @ cannot contain two dots in a row";
  if (!local.split(".").every((atom) => ATEXT.test(atom)))
    return "the part before the @ contains a character that is not allowed";
  return undefined;
}

type AsciiDomain = { ok: true; domain: string } | { ok: false; reason: string };

function toAsciiDomain(domain: string): AsciiDomain {
  const no = (reason: string): AsciiDomain => ({ ok: false, reason });
  if (!domain) return no("the domain after the @ is empty");
  const labels = domain.split(".");
  if (labels.some((l) => l === "")) return no("the domain cannot start or end with a dot or contain two dots in a row");
  if (labels.length < 2) return no("the domain needs at least two labels, such as example.com");
  if (labels.every((l) => /^[0-9]+$/.test(l))) return no("IP addresses are not allowed as a domain");
  // Checked before conversion: the WHATWG converter also percent-decodes and maps many
  // characters, so what reaches it must already be letters, digits and hyphens.
  if (!labels.every((l) => DOMAIN_LABEL_INPUT.test(l)))
    return no("the domain contains a character that is not allowed");
  const ascii = domainToASCII(domain);
  if (!ascii) return no("the domain is not a valid internationalised domain name");
  for (const label of ascii.split(".")) {
    if (label.length > MAX_LABEL_LENGTH) return no(`a domain label is longer than ${MAX_LABEL_LENGTH} characters`);
    if (label.startsWith("-") || label.endsWith("-")) return no("a domain label cannot start or end with a hyphen");
    // The converter passes undecodable A-labels through unchanged.
    if (label.startsWith("xn--") && domainToUnicode(label) === label)
      return no("the domain has an invalid punycode label");
  }
  return { ok: true, domain: ascii };
}

/**
 * authentik's mask: the local part and every domain label but the last keep their first
 * character and the rest becomes `*` (all of it at two characters or fewer); the TLD stays.
 * Something that is not user@domain.tld reveals nothing.
 */
/** The comparison key of a normalised address: what codes are bound to and sends counted by. */
export function addressKey(address: string): string {
  return address.toLowerCase();
}

export function maskAddress(address: string): string {
  const at = address.indexOf("@");
  if (at <= 0 || at !== address.lastIndexOf("@")) return "***";
  const labels = address.slice(at + 1).split(".");
  if (labels.length < 2 || labels.some((l) => l === "")) return "***";
  const tld = labels.pop() ?? "";
  return `${maskPart(address.slice(0, at))}@${[...labels.map(maskPart), tld].join(".")}`;
}

function maskPart(part: string): string {
  const chars = Array.from(part);
  return chars.length <= 2 ? "*".repeat(chars.length) : `${chars[0]}${"*".repeat(chars.length - 1)}`;
}

/** Bidi embeddings, overrides and isolates, which can make a name read as something else. */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/**
 * A display name for an address header: control characters become spaces, bidi controls,
 * quotes, backslashes and angle brackets go, whitespace collapses, and it is capped. The
 * mail library encodes what remains (non-ASCII, commas).
 */
export function sanitizeDisplayName(name: string): string {
  const cleaned = name
    // eslint-disable-next-line no-control-regex -- the point is to remove control characters
    .replace(/[\x00-\x1f\x7f-\x9f]/g, " ")
    .replace(BIDI_CONTROLS, "")
    .replace(/["<>\\]/g, "")
    .replace(/\s+/gu, " ")
    .trim();
  const chars = Array.from(cleaned);
  return chars.length <= MAX_DISPLAY_NAME_LENGTH ? cleaned : chars.slice(0, MAX_DISPLAY_NAME_LENGTH).join("").trimEnd();
}
