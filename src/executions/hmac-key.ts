// The key under which codes are MACed and throttle names derived: 32 random bytes in a Secret of
// the operator's namespace, created by whichever replica needs it first. Rotation is deleting the
// Secret (open challenges then fail). The key never appears in logs or error messages.
import { randomBytes as cryptoRandomBytes } from "node:crypto";
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node";
import { CODE_KEY_SECRET_TYPE, MANAGED_BY } from "../kinds/labels.ts";
import { isAlreadyExists, isNotFound } from "@emailauth/operator-runtime";
import type { RandomBytes } from "./codes.ts";

export const DEFAULT_CODE_KEY_SECRET = "email-authenticator-code-key";
export const CODE_KEY_DATA_KEY = "key";
export const CODE_KEY_BYTES = 32;

/** GETs the key Secret, creating it when missing; if another replica created it first, uses theirs. */
export async function loadOrCreateKey(
  core: CoreV1Api,
  namespace: string,
  name = DEFAULT_CODE_KEY_SECRET,
  randomBytes: RandomBytes = cryptoRandomBytes,
): Promise<Buffer> {
  const existing = await read(core, namespace, name);
  if (existing) return keyOf(existing, namespace, name);
  const body: V1Secret = {
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
    core: CoreV1Api,
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

async function read(core: CoreV1Api, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ namespace, name });
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** A hand-made or damaged Secret is refused rather than overwritten: someone put it there. */
function keyOf(secret: V1Secret, namespace: string, name: string): Buffer {
  const key = Buffer.from(secret.data?.[CODE_KEY_DATA_KEY] ?? "", "base64");
  if (key.length !== CODE_KEY_BYTES) {
    throw new Error(
      `code key Secret ${namespace}/${name} has no ${CODE_KEY_BYTES}-byte value under "${CODE_KEY_DATA_KEY}"; delete it and the operator creates a new key`,
    );
  }
  return key;
}
