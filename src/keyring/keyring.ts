// A keyring kept in one Secret: a current key that signs or MACs, and the previous key that
// still verifies what was made before the last rotation. The format is generic, so the code key
// (HMAC) and the result signing key (ES256) share it; each kind parses and generates its own
// material. Pure: reading and writing the Secret is the caller's.
//
//   type: emailauth.dev/keyring
//   data:
//     current:        <kid>            the key that signs now
//     previous:       <kid>            optional; verifies only
//     rotatedAt:      RFC 3339 time    when `current` became current
//     key.<kid>:      key material     one entry per kid above (kind-specific bytes)
import { createSecretKey, type KeyObject, randomBytes as cryptoRandomBytes } from "node:crypto";

export const KEYRING_SECRET_TYPE = "emailauth.dev/keyring";
export const CURRENT = "current";
export const PREVIOUS = "previous";
export const ROTATED_AT = "rotatedAt";
export const keyEntry = (kid: string): string => `key.${kid}`;
/** Secret data keys allow [-._a-zA-Z0-9]; a kid also appears in JWS headers and logs. */
export const KID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export type RandomBytes = (n: number) => Buffer;

/** How one kind of key is stored. `parse` throws KeyringError with a reason the owner can act on. */
export interface KeyKind<K> {
  readonly name: string;
  parse(material: Buffer): K;
  generate(random: RandomBytes): Buffer;
}

export interface KeyringKey<K> {
  kid: string;
  key: K;
}

export interface Keyring<K> {
  current: KeyringKey<K>;
  previous?: KeyringKey<K>;
  rotatedAt?: Date;
}

export class KeyringError extends Error {
  override readonly name = "KeyringError";
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Secret `data` as the API returns it: base64 values. */
export type SecretData = Readonly<Record<string, string>>;

const text = (data: SecretData, name: string): string | undefined =>
  data[name] === undefined ? undefined : Buffer.from(data[name], "base64").toString("utf8").trim();

export function parseKeyring<K>(data: SecretData | undefined, kind: KeyKind<K>): Parsed<Keyring<K>> {
  const d = data ?? {};
  const load = (role: string, kid: string | undefined): Parsed<KeyringKey<K>> => {
    if (!kid) return { ok: false, reason: `has no "${role}" key id` };
    if (!KID.test(kid)) return { ok: false, reason: `"${role}" is not a valid key id (${KID.source})` };
    const material = d[keyEntry(kid)];
    if (material === undefined) return { ok: false, reason: `names ${role} key ${kid} but has no "${keyEntry(kid)}"` };
    try {
      return { ok: true, value: { kid, key: kind.parse(Buffer.from(material, "base64")) } };
    } catch (e) {
      return { ok: false, reason: `${role} key ${kid}: ${e instanceof KeyringError ? e.message : "unreadable"}` };
    }
  };
  const current = load(CURRENT, text(d, CURRENT));
  if (!current.ok) return current;
  const ring: Keyring<K> = { current: current.value };
  const previousKid = text(d, PREVIOUS);
  if (previousKid) {
    if (previousKid === current.value.kid) return { ok: false, reason: "previous and current have the same key id" };
    const previous = load(PREVIOUS, previousKid);
    if (!previous.ok) return previous;
    ring.previous = previous.value;
  }
  const rotatedAt = text(d, ROTATED_AT);
  if (rotatedAt) {
    const at = Date.parse(rotatedAt);
    if (Number.isNaN(at)) return { ok: false, reason: `"${ROTATED_AT}" is not a time` };
    ring.rotatedAt = new Date(at);
  }
  return { ok: true, value: ring };
}

/** A key id that sorts by creation day and is unique in practice: 20261201-3fa9c2d1. */
export function newKid(now: Date, random: RandomBytes = cryptoRandomBytes): string {
  return `${now.toISOString().slice(0, 10).replaceAll("-", "")}-${random(4).toString("hex")}`;
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString("base64");

/** The data of a new keyring with one key. */
export function initialKeyringData<K>(
  kind: KeyKind<K>,
  now: Date,
  random: RandomBytes = cryptoRandomBytes,
): Record<string, string> {
  const kid = newKid(now, random);
  return { [CURRENT]: b64(kid), [ROTATED_AT]: b64(now.toISOString()), [keyEntry(kid)]: b64(kind.generate(random)) };
}

/**
 * The data after a rotation: a new current key, the old current as previous, the old previous
 * gone. Refused when the old previous may still be needed: anything it made is at most
 * `minIntervalSeconds` old (the longest lifetime of what the keys protect).
 */
export function rotateKeyringData<K>(
  data: SecretData | undefined,
  kind: KeyKind<K>,
  opts: { now: Date; minIntervalSeconds: number; random?: RandomBytes },
): Parsed<Record<string, string>> {
  const parsed = parseKeyring(data, kind);
  if (!parsed.ok) return parsed;
  const ring = parsed.value;
  if (ring.previous && ring.rotatedAt) {
    const wait = ring.rotatedAt.getTime() + opts.minIntervalSeconds * 1000 - opts.now.getTime();
    if (wait > 0)
      return {
        ok: false,
        reason: `the previous key ${ring.previous.kid} may still be in use for ${Math.ceil(wait / 1000)} s; rotate after that`,
      };
  }
  const random = opts.random ?? cryptoRandomBytes;
  let kid = newKid(opts.now, random);
  while (kid === ring.current.kid) kid = newKid(opts.now, random);
  const d = data ?? {};
  return {
    ok: true,
    value: {
      [CURRENT]: b64(kid),
      [PREVIOUS]: b64(ring.current.kid),
      [ROTATED_AT]: b64(opts.now.toISOString()),
      [keyEntry(kid)]: b64(kind.generate(random)),
      [keyEntry(ring.current.kid)]: d[keyEntry(ring.current.kid)] ?? "",
    },
  };
}

/** Keys that verify: current first. */
export function verificationKeys<K>(ring: Keyring<K>): KeyringKey<K>[] {
  return ring.previous ? [ring.current, ring.previous] : [ring.current];
}

export function findKey<K>(ring: Keyring<K>, kid: string): K | undefined {
  return verificationKeys(ring).find((k) => k.kid === kid)?.key;
}

/**
 * A 32-byte MAC key, as the code key uses (issue: the code key becomes a keyring). Parsed into a
 * KeyObject once: createHmac with a Buffer key imports it anew on every call, four times the cost.
 */
export const HMAC_SHA256_KEY: KeyKind<KeyObject> = {
  name: "HMAC-SHA-256",
  parse(material) {
    if (material.length !== 32) throw new KeyringError(`an HMAC key is 32 bytes, this one is ${material.length}`);
    return createSecretKey(material);
  },
  generate: (random) => random(32),
};
