import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  codeMac,
  macKeyId,
  codeMatches,
  generateCode,
  newExecutionToken,
  tokenHash,
  tokenMatches,
  type CodeParts,
} from "./codes.ts";
import { newExecutionId, parseExecutionId } from "./ids.ts";

const key = Buffer.alloc(32, 7);
const parts: CodeParts = {
  executionId: "0123456789abcdef0123456789abcdef",
  stage: "relay",
  addressKey: "alice@example.com",
  code: "004217",
};

describe("generateCode", () => {
  it("draws from the whole range and zero-pads", () => {
    const calls: [number, number][] = [];
    expect(generateCode(6, (min, max) => (calls.push([min, max]), 42))).toBe("000042");
    expect(calls).toEqual([[0, 1_000_000]]);
    expect(generateCode(8, () => 0)).toBe("00000000");
    expect(generateCode(6, () => 999_999)).toBe("999999");
  });

  it("refuses lengths crypto.randomInt cannot serve", () => {
    for (const bad of [0, -1, 1.5, 15, Number.NaN]) expect(() => generateCode(bad)).toThrow(RangeError);
    expect(generateCode(14)).toMatch(/^[0-9]{14}$/);
  });

  it("is roughly uniform per digit position (chi-squared sanity check)", () => {
    const n = 20_000;
    const counts = Array.from({ length: 6 }, () => new Array<number>(10).fill(0));
    for (let i = 0; i < n; i++) {
      const code = generateCode(6);
      expect(code).toMatch(/^[0-9]{6}$/);
      [...code].forEach((d, pos) => counts[pos]![Number(d)]!++);
    }
    const expected = n / 10;
    for (const row of counts) {
      const chi2 = row.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
      // 9 degrees of freedom: p = 1e-6 at about 46; a biased generator lands far above.
      expect(chi2).toBeLessThan(46);
    }
  });

  it("produces leading zeros as often as any other first digit", () => {
    const leadingZero = Array.from({ length: 5_000 }, () => generateCode(4)).filter((c) => c.startsWith("0")).length;
    expect(leadingZero).toBeGreaterThan(350);
    expect(leadingZero).toBeLessThan(650);
  });
});

describe("codeMac / codeMatches", () => {
  const mac = codeMac(key, parts);

  it("is a base64 HMAC-SHA-256 that does not contain the code", () => {
    expect(Buffer.from(mac, "base64")).toHaveLength(32);
    expect(mac).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(mac).not.toContain(parts.code);
    expect(codeMac(key, parts)).toBe(mac);
  });

  it("matches only the same code, execution, stage, address and key", () => {
    expect(codeMatches(key, parts, mac)).toBe(true);
    expect(codeMatches(key, { ...parts, code: "004218" }, mac)).toBe(false);
    expect(codeMatches(key, { ...parts, code: "4217" }, mac)).toBe(false);
    expect(codeMatches(key, { ...parts, executionId: "f".repeat(32) }, mac)).toBe(false);
    expect(codeMatches(key, { ...parts, stage: "other" }, mac)).toBe(false);
    expect(codeMatches(key, { ...parts, addressKey: "bob@example.com" }, mac)).toBe(false);
    expect(codeMatches(Buffer.alloc(32, 8), parts, mac)).toBe(false);
  });

  it("separates the parts, so shifting characters between them changes the MAC", () => {
    const a = codeMac(key, { ...parts, stage: "ab", addressKey: "c@d" });
    const b = codeMac(key, { ...parts, stage: "a", addressKey: "bc@d" });
    expect(a).not.toBe(b);
  });

  it("rejects malformed input without throwing", () => {
    const cases: unknown[] = [
      undefined,
      null,
      42,
      "",
      "not base64!",
      mac.slice(0, -1),
      `${mac}A`,
      Buffer.alloc(33).toString("base64"),
      mac.replace("=", "A"),
    ];
    for (const bad of cases) expect(codeMatches(key, parts, bad)).toBe(false);
    for (const code of ["", " 004217", "0042a7", "1".repeat(17), "００４２１７"])
      expect(codeMatches(key, { ...parts, code }, mac)).toBe(false);
    expect(codeMatches(key, { ...parts, code: 4217 as unknown as string }, mac)).toBe(false);
    expect(codeMatches(key, { ...parts, stage: "re\0lay" }, mac)).toBe(false);
    expect(codeMatches(Buffer.alloc(16), parts, mac)).toBe(false);
  });

  it("refuses to make a MAC from bad parts or a short key", () => {
    expect(() => codeMac(key, { ...parts, addressKey: "a\0b" })).toThrow(RangeError);
    expect(() => codeMac(key, { ...parts, code: "12 34" })).toThrow(RangeError);
    expect(() => codeMac(Buffer.alloc(31), parts)).toThrow(RangeError);
  });
});

describe("execution ids and tokens", () => {
  it("ids are 128-bit hex and distinct", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newExecutionId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(newExecutionId(() => Buffer.alloc(16, 0xab))).toBe("ab".repeat(16));
  });

  it("parses only what an id can be", () => {
    expect(parseExecutionId("ab".repeat(16))).toBe("ab".repeat(16));
    for (const bad of ["", "AB".repeat(16), "ab".repeat(15), "ab".repeat(17), `${"ab".repeat(15)}g0`, "../x"])
      expect(parseExecutionId(bad)).toBeUndefined();
  });

  it("tokens carry the prefix and 256 bits; only their SHA-256 is compared", () => {
    const token = newExecutionToken();
    expect(token).toMatch(/^eaox_[A-Za-z0-9_-]{43}$/);
    expect(newExecutionToken(() => Buffer.alloc(32))).toBe(`eaox_${"A".repeat(43)}`);
    const hash = tokenHash(token);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenMatches(token, hash)).toBe(true);
    expect(tokenMatches(newExecutionToken(), hash)).toBe(false);
  });

  it("tokenMatches rejects malformed tokens and hashes without throwing", () => {
    const token = `eaox_${randomBytes(32).toString("base64url")}`;
    const hash = tokenHash(token);
    for (const bad of [undefined, 1, "", token.slice(5), `${token}x`, `Bearer ${token}`, token.toUpperCase()])
      expect(tokenMatches(bad, hash)).toBe(false);
    for (const bad of [undefined, "", hash.slice(1), hash.toUpperCase(), `${hash}00`])
      expect(tokenMatches(token, bad)).toBe(false);
  });
});

describe("codeMac / codeMatches with a keyring", () => {
  const k1 = { kid: "20261201-aaaaaaaa", key: Buffer.alloc(32, 1) };
  const k2 = { kid: "20261202-bbbbbbbb", key: Buffer.alloc(32, 2) };

  it("names the key id in the MAC and verifies with the key it names", () => {
    const old = codeMac(k1, parts);
    expect(old).toMatch(/^20261201-aaaaaaaa\.[A-Za-z0-9+/]{43}=$/);
    expect(macKeyId(old)).toBe(k1.kid);
    // After a rotation k1 is the previous key: its codes still verify, new ones use k2.
    const rotated = { current: k2, previous: k1 };
    expect(codeMatches(rotated, parts, old)).toBe(true);
    expect(codeMatches(rotated, parts, codeMac(k2, parts))).toBe(true);
    expect(codeMatches(rotated, { ...parts, code: "004218" }, old)).toBe(false);
  });

  it("refuses a MAC of a key no longer held, one relabelled with another key id, and one without an id", () => {
    const old = codeMac(k1, parts);
    expect(codeMatches({ current: k2 }, parts, old)).toBe(false);
    expect(codeMatches({ current: k2, previous: k1 }, parts, old.replace(k1.kid, k2.kid))).toBe(false);
    expect(codeMatches({ current: k1 }, parts, codeMac(k1.key, parts))).toBe(false);
    expect(macKeyId(codeMac(k1.key, parts))).toBeUndefined();
  });
});
