import { describe, expect, it } from "vitest";
import { generateKeyPairSync } from "node:crypto";
import { SignJWT } from "jose";
import { initialKeyringData, parseKeyring, rotateKeyringData } from "../keyring/keyring.ts";
import { ES256_KEY } from "./es256-key.ts";
import { jwksDocument } from "./jwks.ts";
import { RESULT_AMR, RESULT_TTL_SECONDS, signResult, verifyResult } from "./result-token.ts";

const now = new Date("2026-12-01T10:00:00Z");
const issuer = "https://auth.example.com";
const audience = "system:serviceaccount:shop:web";
const input = {
  issuer,
  audience,
  subject: "alice",
  namespace: "default",
  flow: "sign-in",
  stage: "email",
  device: "email-alice",
  execution: "default.0123456789abcdef0123456789abcdef",
  state: "xyz-123",
  verifiedAt: new Date(now.getTime() - 1000),
};

function ring(data = initialKeyringData(ES256_KEY, now)) {
  const r = parseKeyring(data, ES256_KEY);
  if (!r.ok) throw new Error(r.reason);
  return { ring: r.value, data };
}

const at = (s: number) => new Date(now.getTime() + s * 1000);

describe("result tokens", () => {
  it("sign with kid and verify against the JWKS with the expected claims", async () => {
    const { ring: keys } = ring();
    const token = await signResult(input, keys.current, now);
    const header = JSON.parse(Buffer.from(token.split(".")[0] ?? "", "base64url").toString()) as Record<string, string>;
    expect(header).toEqual({ alg: "ES256", kid: keys.current.kid, typ: "emailauth-result+jwt" });
    const jwks = jwksDocument(keys);
    expect(JSON.stringify(jwks)).not.toContain('"d"');
    const r = await verifyResult(token, { jwks, issuer, audience, now: at(1) });
    expect(r).toEqual({
      ok: true,
      claims: {
        iss: issuer,
        aud: audience,
        sub: "alice",
        jti: input.execution,
        iat: now.getTime() / 1000,
        exp: now.getTime() / 1000 + RESULT_TTL_SECONDS,
        auth_time: now.getTime() / 1000 - 1,
        amr: [...RESULT_AMR],
        namespace: "default",
        flow: "sign-in",
        stage: "email",
        device: "email-alice",
        execution: input.execution,
        state: "xyz-123",
      },
    });
  });

  it("fail when tampered, expired, for another audience or issuer, or signed by an unknown key", async () => {
    const { ring: keys } = ring();
    const jwks = jwksDocument(keys);
    const token = await signResult(input, keys.current, now);
    const [h, p, s] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, sub: "mallory" })).toString("base64url");
    const check = (t: string, o: Partial<{ audience: string; issuer: string; now: Date }> = {}) =>
      verifyResult(t, { jwks, issuer, audience, now: at(1), ...o });

    expect(await check(`${h}.${forged}.${s}`)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("ERR_JWS_SIGNATURE_VERIFICATION_FAILED") as unknown,
    });
    expect(await check(token, { now: at(RESULT_TTL_SECONDS + 6) })).toMatchObject({
      ok: false,
      reason: expect.stringContaining("ERR_JWT_EXPIRED") as unknown,
    });
    expect(await check(token, { audience: "system:serviceaccount:shop:other" })).toMatchObject({ ok: false });
    expect(await check(token, { issuer: "https://evil.example.com" })).toMatchObject({ ok: false });
    const other = ring();
    expect(await check(await signResult(input, other.ring.current, now))).toMatchObject({ ok: false });
    expect(await check("not.a.jwt")).toMatchObject({ ok: false });
  });

  it("refuse alg none, HS256 with the public key, and tokens without our type", async () => {
    const { ring: keys } = ring();
    const jwks = jwksDocument(keys);
    const none = `${Buffer.from(JSON.stringify({ alg: "none", typ: "emailauth-result+jwt" })).toString("base64url")}.${Buffer.from(JSON.stringify({ sub: "x", iss: issuer, aud: audience })).toString("base64url")}.`;
    expect(await verifyResult(none, { jwks, issuer, audience, now })).toMatchObject({ ok: false });
    const hs = await new SignJWT({ sub: "x" })
      .setProtectedHeader({ alg: "HS256", kid: keys.current.kid, typ: "emailauth-result+jwt" })
      .setIssuer(issuer)
      .setAudience(audience)
      .sign(Buffer.from(JSON.stringify(jwks.keys[0])));
    expect(await verifyResult(hs, { jwks, issuer, audience, now })).toMatchObject({ ok: false });
    const untyped = await new SignJWT({ sub: "x" })
      .setProtectedHeader({ alg: "ES256", kid: keys.current.kid })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(seconds(now))
      .setExpirationTime(seconds(now) + 60)
      .sign(keys.current.key);
    expect(await verifyResult(untyped, { jwks, issuer, audience, now })).toMatchObject({ ok: false });
  });

  it("keep verifying tokens of the previous key after a rotation", async () => {
    const before = ring();
    const token = await signResult(input, before.ring.current, now);
    const rotated = rotateKeyringData(before.data, ES256_KEY, { now: at(10), minIntervalSeconds: 600 });
    if (!rotated.ok) throw new Error(rotated.reason);
    const after = ring(rotated.value);
    const jwks = jwksDocument(after.ring);
    expect(jwks.keys.map((k) => k.kid)).toEqual([after.ring.current.kid, before.ring.current.kid]);
    expect(await verifyResult(token, { jwks, issuer, audience, now: at(11) })).toMatchObject({ ok: true });
  });

  it("the key kind refuses keys that cannot sign ES256", () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "pem", type: "pkcs8" });
    expect(() => ES256_KEY.parse(Buffer.from(rsa))).toThrow("not an EC P-256 key");
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).privateKey.export({ format: "pem", type: "pkcs8" });
    expect(() => ES256_KEY.parse(Buffer.from(p384))).toThrow("not an EC P-256 key");
    expect(() => ES256_KEY.parse(Buffer.from("garbage"))).toThrow("not a PEM private key");
  });
});

function seconds(d: Date) {
  return Math.floor(d.getTime() / 1000);
}
