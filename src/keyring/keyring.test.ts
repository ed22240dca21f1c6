import { describe, expect, it } from "vitest";
import {
  CURRENT,
  findKey,
  HMAC_SHA256_KEY,
  initialKeyringData,
  keyEntry,
  newKid,
  parseKeyring,
  PREVIOUS,
  rotateKeyringData,
  verificationKeys,
} from "./keyring.ts";

const now = new Date("2026-12-01T10:00:00Z");
const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
let counter = 0;
/** Deterministic, different on every call. */
const random = (n: number) => Buffer.alloc(n, ++counter);

describe("keyring", () => {
  it("starts with one current key and reads it back", () => {
    const data = initialKeyringData(HMAC_SHA256_KEY, now, random);
    const ring = parseKeyring(data, HMAC_SHA256_KEY);
    expect(ring.ok).toBe(true);
    if (!ring.ok) return;
    expect(ring.value.current.kid).toMatch(/^20261201-[0-9a-f]{8}$/);
    expect(ring.value.current.key.symmetricKeySize).toBe(32);
    expect(ring.value.previous).toBeUndefined();
    expect(ring.value.rotatedAt).toEqual(now);
  });

  it("rotates: new current, old current becomes previous and still verifies, the one before is gone", () => {
    const first = initialKeyringData(HMAC_SHA256_KEY, now, random);
    const r1 = rotateKeyringData(first, HMAC_SHA256_KEY, { now, minIntervalSeconds: 600, random });
    if (!r1.ok) throw new Error(r1.reason);
    const ring1 = parseKeyring(r1.value, HMAC_SHA256_KEY);
    if (!ring1.ok) throw new Error(ring1.reason);
    const firstKid = Buffer.from(first[CURRENT] ?? "", "base64").toString();
    expect(ring1.value.previous?.kid).toBe(firstKid);
    expect(ring1.value.current.kid).not.toBe(firstKid);
    expect(findKey(ring1.value, firstKid)?.export()).toEqual(Buffer.from(first[keyEntry(firstKid)] ?? "", "base64"));
    expect(verificationKeys(ring1.value).map((k) => k.kid)).toEqual([ring1.value.current.kid, firstKid]);

    // Too soon: the previous key may still be needed by codes made just before the rotation.
    const tooSoon = rotateKeyringData(r1.value, HMAC_SHA256_KEY, {
      now: new Date(now.getTime() + 599_000),
      minIntervalSeconds: 600,
      random,
    });
    expect(tooSoon).toEqual({ ok: false, reason: expect.stringContaining("may still be in use for 1 s") as unknown });

    const r2 = rotateKeyringData(r1.value, HMAC_SHA256_KEY, {
      now: new Date(now.getTime() + 600_000),
      minIntervalSeconds: 600,
      random,
    });
    if (!r2.ok) throw new Error(r2.reason);
    const ring2 = parseKeyring(r2.value, HMAC_SHA256_KEY);
    if (!ring2.ok) throw new Error(ring2.reason);
    expect(ring2.value.previous?.kid).toBe(ring1.value.current.kid);
    expect(findKey(ring2.value, firstKid)).toBeUndefined();
    expect(
      Object.keys(r2.value)
        .filter((k) => k.startsWith("key."))
        .sort(),
    ).toHaveLength(2);
  });

  it.each([
    ["no current", {}, 'has no "current" key id'],
    ["a bad kid", { [CURRENT]: b64("../x") }, "not a valid key id"],
    ["missing material", { [CURRENT]: b64("k1") }, 'has no "key.k1"'],
    ["short material", { [CURRENT]: b64("k1"), "key.k1": b64("short") }, "32 bytes, this one is 5"],
    [
      "previous = current",
      { [CURRENT]: b64("k1"), [PREVIOUS]: b64("k1"), "key.k1": b64(Buffer.alloc(32)) },
      "the same key id",
    ],
    [
      "missing previous material",
      { [CURRENT]: b64("k1"), [PREVIOUS]: b64("k0"), "key.k1": b64(Buffer.alloc(32)) },
      'has no "key.k0"',
    ],
    [
      "a bad time",
      { [CURRENT]: b64("k1"), "key.k1": b64(Buffer.alloc(32)), rotatedAt: b64("yesterday") },
      "not a time",
    ],
  ])("refuses %s with a reason", (_name, data, reason) => {
    const r = parseKeyring(data, HMAC_SHA256_KEY);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  it("never puts key material into a reason", () => {
    const secret = Buffer.alloc(31, 7);
    const r = parseKeyring({ [CURRENT]: b64("k1"), "key.k1": b64(secret) }, HMAC_SHA256_KEY);
    expect(JSON.stringify(r)).not.toContain(b64(secret));
  });

  it("makes key ids from the day and randomness", () => {
    expect(newKid(now, (n) => Buffer.alloc(n, 0xab))).toBe("20261201-abababab");
  });
});
