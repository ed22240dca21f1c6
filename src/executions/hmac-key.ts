// Two keys in the operator's namespace, created by whichever replica needs them first; neither
// ever appears in logs or error messages.
// - The code keyring (CodeKeys): codes are MACed with its current key, and a MAC names its key
//   id, so codes made before a rotation verify with the previous key until they expire. Every
//   replica re-reads it when its watch sees a change, and at once when a MAC names a key id it
//   does not hold yet (another replica rotated first), so replicas agree.
// - The counter key (loadOrCreateKey, CodeKey): names throttle counters. It is never rotated, so
//   counters survive a code key rotation; deleting it resets every counter.
import { type KeyObject, randomBytes as cryptoRandomBytes } from "node:crypto";
import type { CoreApi, Secret } from "@emailauth/operator-runtime";
import { CODE_KEY_SECRET_TYPE, MANAGED_BY } from "../kinds/labels.ts";
import { type Clock, isAlreadyExists, isNotFound } from "@emailauth/operator-runtime";
import { findKey, HMAC_SHA256_KEY } from "../keyring/keyring.ts";
import { KeyringSecret } from "../keyring/keyring-secret.ts";
import { type CodeKeyring, macKeyId, type RandomBytes } from "./codes.ts";

/** The counter key's Secret (its name predates the keyring: it once MACed codes too). */
export const DEFAULT_CODE_KEY_SECRET = "email-authenticator-code-key";
export const DEFAULT_CODE_KEYRING_SECRET = "email-authenticator-code-keys";
/** The longest a code lives (a stage's tokenExpiry is at most 1440 minutes): rotations are this far apart. */
export const CODE_KEY_MIN_ROTATION_SECONDS = 24 * 3600;

export interface CodeKeysOptions {
  core: CoreApi;
  namespace: string;
  name?: string;
  clock: Clock;
  warn?: (message: string) => void;
}

/** The code keyring as the sender and verifier use it. */
export class CodeKeys {
  readonly #ring: KeyringSecret<KeyObject>;

  constructor(o: CodeKeysOptions) {
    this.#ring = new KeyringSecret({
      core: o.core,
      namespace: o.namespace,
      name: o.name ?? DEFAULT_CODE_KEYRING_SECRET,
      kind: HMAC_SHA256_KEY,
      clock: o.clock,
      minIntervalSeconds: CODE_KEY_MIN_ROTATION_SECONDS,
      ...(o.warn ? { warn: o.warn } : {}),
    });
  }

  /** The keys; with `forMac`, re-read first if that MAC names a key id not held yet. */
  async get(forMac?: string): Promise<CodeKeyring> {
    let ring = await this.#ring.get();
    const kid = macKeyId(forMac);
    if (kid !== undefined && findKey(ring, kid) === undefined) {
      this.#ring.forget();
      ring = await this.#ring.get();
    }
    return ring.previous ? { current: ring.current, previous: ring.previous } : { current: ring.current };
  }

  /** The Secret changed (a watch event): read it now, which also carries out a requested rotation. */
  changed(): Promise<void> {
    this.#ring.forget();
    return this.#ring.get().then(
      () => undefined,
      () => undefined, // the next request reports it
    );
  }

  toJSON(): string {
    return "CodeKeys";
  }
}
export const CODE_KEY_DATA_KEY = "key";
export const CODE_KEY_BYTES = 32;

/** GETs the key Secret, creating it when missing; if another replica created it first, uses theirs. */
export async function loadOrCreateKey(
  core: CoreApi,
  namespace: string,
  name = DEFAULT_CODE_KEY_SECRET,
  randomBytes: RandomBytes = cryptoRandomBytes,
): Promise<Buffer> {
  const existing = await read(core, namespace, name);
  if (existing) return keyOf(existing, namespace, name);
  const body: Secret = {
    metadata: { name, namespace, labels: { ...MANAGED_BY } },
    type: CODE_KEY_SECRET_TYPE,
    data: { [CODE_KEY_DATA_KEY]: randomBytes(CODE_KEY_BYTES).toString("base64") },
  };
  try {
    return keyOf(await core.createNamespacedSecret({ namespace, body }), namespace, name);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  // Lost the race: the winner's key is the one every replica must use.
  const winner = await read(core, namespace, name);
  if (!winner) throw new Error(`code key Secret ${namespace}/${name} was created and deleted concurrently; try again`);
  return keyOf(winner, namespace, name);
}

/**
 * The key, loaded once per instance. Concurrent callers share one load; a failed load is not
 * cached, so the next call tries again.
 */
export class CodeKey {
  readonly #load: () => Promise<Buffer>;
  #key: Promise<Buffer> | undefined;

  constructor(
    core: CoreApi,
    namespace: string,
    name = DEFAULT_CODE_KEY_SECRET,
    randomBytes: RandomBytes = cryptoRandomBytes,
  ) {
    this.#load = () => loadOrCreateKey(core, namespace, name, randomBytes);
  }

  get(): Promise<Buffer> {
    if (!this.#key) {
      const loading = this.#load();
      this.#key = loading;
      loading.catch(() => {
        if (this.#key === loading) this.#key = undefined;
      });
    }
    return this.#key;
  }

  /** Drops the cached key, e.g. after the Secret was deleted to rotate it. */
  forget(): void {
    this.#key = undefined;
  }

  /** Keeps the key out of anything that serialises this object. */
  toJSON(): string {
    return "CodeKey";
  }
}

async function read(core: CoreApi, namespace: string, name: string): Promise<Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ namespace, name });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** A hand-made or damaged Secret is refused rather than overwritten: someone put it there. */
function keyOf(secret: Secret, namespace: string, name: string): Buffer {
  const key = Buffer.from(secret.data?.[CODE_KEY_DATA_KEY] ?? "", "base64");
  if (key.length !== CODE_KEY_BYTES) {
    throw new Error(
      `code key Secret ${namespace}/${name} has no ${CODE_KEY_BYTES}-byte value under "${CODE_KEY_DATA_KEY}"; delete it and the operator creates a new key`,
    );
  }
  return key;
}
