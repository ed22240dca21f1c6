// GET /.well-known/jwks.json: the public keys that verify result tokens, current and previous,
// so a token signed just before a rotation still verifies after it.
import type { KeyObject } from "node:crypto";
import { type Keyring, verificationKeys } from "../keyring/keyring.ts";
import { type PublicJwk, publicJwk } from "./es256-key.ts";

export interface JwksDocument {
  keys: PublicJwk[];
}

export function jwksDocument(ring: Keyring<KeyObject>): JwksDocument {
  return { keys: verificationKeys(ring).map((k) => publicJwk(k.kid, k.key)) };
}
