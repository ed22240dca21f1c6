// The signed result an application receives when a flow completes: a compact JWS (ES256, `kid`)
// that the hosted pages append to `returnTo` and the JSON API returns with the completed
// execution. Short-lived: it proves a fresh verification, it is not a session.
//
// amr (RFC 8176): ["otp", "mca"]. "otp" because the user proved a one-time code; "mca"
// (multiple-channel authentication) because the code travelled by email, a channel other than
// the browser it was typed into. "email" is not a registered amr value, so it is not used.
import type { KeyObject } from "node:crypto";
import { createLocalJWKSet, errors, jwtVerify, SignJWT } from "jose";
import type { KeyringKey } from "../keyring/keyring.ts";
import type { JwksDocument } from "./jwks.ts";

export const RESULT_TOKEN_TYPE = "emailauth-result+jwt";
export const RESULT_TTL_SECONDS = 120;
export const RESULT_AMR = ["otp", "mca"] as const;
/** Allowed skew between the operator's clock and a verifier's. */
export const CLOCK_TOLERANCE_SECONDS = 5;

export interface ResultInput {
  /** The operator's public base URL; the JWKS is at `${issuer}/.well-known/jwks.json`. */
  issuer: string;
  /** The starting application (its Kubernetes username). */
  audience: string;
  /** The user's id in the application. */
  subject: string;
  namespace: string;
  flow: string;
  stage: string;
  device: string;
  /** Public execution id; also the token's `jti`, so an application can refuse a replay. */
  execution: string;
  /** The application's opaque value from the start request, echoed. */
  state?: string | undefined;
  verifiedAt: Date;
}

export interface ResultClaims {
  iss: string;
  aud: string;
  sub: string;
  iat: number;
  exp: number;
  jti: string;
  auth_time: number;
  amr: string[];
  namespace: string;
  flow: string;
  stage: string;
  device: string;
  execution: string;
  state?: string;
}

const seconds = (d: Date): number => Math.floor(d.getTime() / 1000);

export async function signResult(input: ResultInput, key: KeyringKey<KeyObject>, now: Date): Promise<string> {
  const iat = seconds(now);
  return new SignJWT({
    auth_time: seconds(input.verifiedAt),
    amr: [...RESULT_AMR],
    namespace: input.namespace,
    flow: input.flow,
    stage: input.stage,
    device: input.device,
    execution: input.execution,
    ...(input.state !== undefined ? { state: input.state } : {}),
  })
    .setProtectedHeader({ alg: "ES256", kid: key.kid, typ: RESULT_TOKEN_TYPE })
    .setIssuer(input.issuer)
    .setAudience(input.audience)
    .setSubject(input.subject)
    .setJti(input.execution)
    .setIssuedAt(iat)
    .setExpirationTime(iat + RESULT_TTL_SECONDS)
    .sign(key.key);
}

export type Verified = { ok: true; claims: ResultClaims } | { ok: false; reason: string };

/** What an application does (and the tests): verify against the published JWKS. */
export async function verifyResult(
  token: string,
  o: { jwks: JwksDocument; issuer: string; audience: string; now: Date },
): Promise<Verified> {
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(o.jwks), {
      issuer: o.issuer,
      audience: o.audience,
      algorithms: ["ES256"],
      typ: RESULT_TOKEN_TYPE,
      currentDate: o.now,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ["sub", "jti", "iat", "exp", "execution", "stage", "flow"],
    });
    return { ok: true, claims: payload as unknown as ResultClaims };
  } catch (e) {
    if (e instanceof errors.JOSEError) return { ok: false, reason: `${e.code}: ${e.message}` };
    throw e;
  }
}
