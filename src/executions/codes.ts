// One-time codes, execution ids and execution tokens. Codes are stored only as an HMAC bound to
// the execution, stage and address, and every comparison is constant-time on fixed-length
// buffers; malformed input is rejected up front (false), never thrown on, never hashed at length.
import {
  createHash,
  createHmac,
  KeyObject,
  randomBytes as cryptoRandomBytes,
  randomInt as cryptoRandomInt,
  timingSafeEqual,
} from "node:crypto";

export type RandomInt = (min: number, max: number) => number;
export type RandomBytes = (size: number) => Buffer;

/** crypto.randomInt accepts ranges below 2**48, i.e. at most 14 decimal digits. */
export const MAX_CODE_LENGTH = 14;
/**
 * What a submitted code may look like: the HTTP API validates requests with it, and a MAC is
 * never computed over anything else. Up to 16 digits; longer input is not even hashed.
 */
export const CODE_PATTERN = /^[0-9]{1,16}$/;
const MAC_BYTES = 32;
/** base64 of 32 bytes: 43 characters and one padding character. */
const MAC_FORMAT = /^[A-Za-z0-9+/]{43}=$/;
const MIN_KEY_BYTES = 32;
export const TOKEN_PREFIX = "eaox_";
const TOKEN_FORMAT = /^eaox_[A-Za-z0-9_-]{43}$/;
const HASH_FORMAT = /^[0-9a-f]{64}$/;

/** A MAC key: raw bytes, or (cheaper per MAC) a KeyObject made from them once. */
export type HmacKey = Buffer | KeyObject;

/** A code key and its id in the keyring; a stored MAC names the id: `<kid>.<base64 MAC>`. */
export interface MacKey {
  kid: string;
  key: HmacKey;
}

/** The keys that verify: the current one, and the previous one until its codes have expired. */
export interface CodeKeyring {
  current: MacKey;
  previous?: MacKey;
}

const KEYED_MAC = /^([a-z0-9][a-z0-9-]{0,62})\.(.+)$/;

/** The key id a stored MAC was made with; undefined for a MAC without one. */
export function macKeyId(mac: unknown): string | undefined {
  return typeof mac === "string" ? KEYED_MAC.exec(mac)?.[1] : undefined;
}

/** What a code is bound to: a code for one execution, stage or address is useless for another. */
export interface CodeParts {
  executionId: string;
  stage: string;
  addressKey: string;
  code: string;
}

/**
 * A uniformly distributed code of `length` digits, zero-padded. randomInt draws from the whole
 * range by rejection sampling, so no digit string is likelier than another (no modulo bias).
 */
export function generateCode(length: number, randomInt: RandomInt = cryptoRandomInt): string {
  if (!Number.isInteger(length) || length < 1 || length > MAX_CODE_LENGTH) {
    throw new RangeError(`code length must be a whole number from 1 to ${MAX_CODE_LENGTH}`);
  }
  const n = randomInt(0, 10 ** length);
  return String(n).padStart(length, "0");
}

/**
 * base64 HMAC-SHA-256 over executionId‖0x00‖stage‖0x00‖addressKey‖0x00‖code; with a keyring key,
 * prefixed by its id so verification picks that key (never tries both: no doubled guess odds).
 */
export function codeMac(k: HmacKey | MacKey, parts: CodeParts): string {
  if (!isHmacKey(k)) return `${k.kid}.${codeMac(k.key, parts)}`;
  const key = k;
  if (keyBytes(key) < MIN_KEY_BYTES) throw new RangeError(`the code key must have at least ${MIN_KEY_BYTES} bytes`);
  if (!wellFormed(parts))
    throw new RangeError("code parts must be non-empty strings without NUL, and the code digits only");
  return macOf(key, parts).toString("base64");
}

/**
 * Whether `code` is the one `mac` was made for; false for any malformed input, and for a MAC of
 * a key the keyring no longer holds (its codes have expired).
 */
export function codeMatches(k: HmacKey | CodeKeyring, parts: CodeParts, mac: unknown): boolean {
  if (!isHmacKey(k)) {
    const kid = macKeyId(mac);
    const entry = [k.current, k.previous].find((e) => e !== undefined && e.kid === kid);
    return entry !== undefined && codeMatches(entry.key, parts, (mac as string).slice(kid?.length ?? 0).slice(1));
  }
  const key = k;
  if (keyBytes(key) < MIN_KEY_BYTES || !wellFormed(parts) || typeof mac !== "string" || !MAC_FORMAT.test(mac))
    return false;
  const expected = Buffer.from(mac, "base64");
  const actual = macOf(key, parts);
  return expected.length === MAC_BYTES && timingSafeEqual(expected, actual);
}

/** The bearer secret of an execution: a recognisable prefix (for secret scanners) and 256 bits. */
export function newExecutionToken(randomBytes: RandomBytes = cryptoRandomBytes): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
}

/** What is stored instead of the token: a high-entropy token needs no salt or slow hash. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

export function tokenMatches(token: unknown, hash: unknown): boolean {
  if (typeof token !== "string" || typeof hash !== "string" || !TOKEN_FORMAT.test(token) || !HASH_FORMAT.test(hash))
    return false;
  return timingSafeEqual(createHash("sha256").update(token, "utf8").digest(), Buffer.from(hash, "hex"));
}

function isHmacKey(k: HmacKey | MacKey | CodeKeyring): k is HmacKey {
  return Buffer.isBuffer(k) || k instanceof KeyObject;
}

function keyBytes(key: HmacKey): number {
  return Buffer.isBuffer(key) ? key.length : (key.symmetricKeySize ?? 0);
}

function macOf(key: HmacKey, p: CodeParts): Buffer {
  return createHmac("sha256", key).update(`${p.executionId}\0${p.stage}\0${p.addressKey}\0${p.code}`, "utf8").digest();
}

/** NUL separates the parts, so no part may contain one (else two tuples could share a MAC). */
function wellFormed(p: CodeParts): boolean {
  const fields = [p.executionId, p.stage, p.addressKey];
  return (
    fields.every((f) => typeof f === "string" && f.length > 0 && f.length <= 1024 && !f.includes("\0")) &&
    typeof p.code === "string" &&
    CODE_PATTERN.test(p.code)
  );
}
