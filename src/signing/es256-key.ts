// The result signing key: an ECDSA P-256 private key (PKCS #8 PEM) in the keyring format.
// Generated with node:crypto, which takes randomness from the OS; the injected RandomBytes of
// the keyring is not used for this kind.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { type KeyKind, KeyringError } from "../keyring/keyring.ts";

export const ES256_KEY: KeyKind<KeyObject> = {
  name: "ES256",
  parse(material) {
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: material, format: "pem" });
    } catch {
      throw new KeyringError("is not a PEM private key");
    }
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1")
      throw new KeyringError("is not an EC P-256 key (ES256 needs one)");
    return key;
  },
  generate: () =>
    Buffer.from(generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "pem", type: "pkcs8" })),
};

export interface PublicJwk {
  kty: "EC";
  crv: "P-256";
  x: string;
  y: string;
  kid: string;
  alg: "ES256";
  use: "sig";
}

/** The public half as a JWK, with only the members a verifier needs. */
export function publicJwk(kid: string, privateKey: KeyObject): PublicJwk {
  const jwk = createPublicKey(privateKey).export({ format: "jwk" });
  return { kty: "EC", crv: "P-256", x: jwk.x ?? "", y: jwk.y ?? "", kid, alg: "ES256", use: "sig" };
}
