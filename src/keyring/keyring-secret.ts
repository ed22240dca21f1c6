// A keyring kept in a Secret of the operator's namespace, shared by every replica. Created by
// whichever replica needs it first (the loser of the create race uses the winner's). Re-read
// after a short time rather than cached for the process lifetime, so a rotation reaches every
// replica within REFRESH_MS; the previous key keeps verifying meanwhile.
//
// Rotation: annotate the Secret with ROTATE_ANNOTATION (any new value, e.g. the time). The first
// replica that reads it rotates with a resourceVersion precondition (one winner) and records
// the value it acted on, so a request rotates once. A rotation sooner than `minIntervalSeconds`
// after the last is refused and logged, as the previous key might still be in use.
import type { CoreApi, Secret } from "@emailauth/operator-runtime";
import { type Clock, isAlreadyExists, isConflict, isNotFound } from "@emailauth/operator-runtime";
import { GROUP } from "../kinds/v1alpha1/common.ts";
import { MANAGED_BY } from "../kinds/labels.ts";
import {
  initialKeyringData,
  type KeyKind,
  type Keyring,
  KEYRING_SECRET_TYPE,
  KeyringError,
  parseKeyring,
  rotateKeyringData,
} from "./keyring.ts";

export const ROTATE_ANNOTATION = `${GROUP}/rotate`;
export const ROTATED_FOR_ANNOTATION = `${GROUP}/rotated-for`;
export const REFRESH_MS = 10_000;

export interface KeyringSecretOptions<K> {
  core: CoreApi;
  namespace: string;
  name: string;
  kind: KeyKind<K>;
  clock: Clock;
  /** The longest lifetime of anything the keys protect; rotations closer together are refused. */
  minIntervalSeconds: number;
  /** Told about refused rotations and damaged Secrets; never given key material. */
  warn?: (message: string) => void;
}

export class KeyringSecret<K> {
  readonly #o: KeyringSecretOptions<K>;
  #cached: { at: number; ring: Keyring<K> } | undefined;
  #loading: Promise<Keyring<K>> | undefined;

  constructor(o: KeyringSecretOptions<K>) {
    this.#o = o;
  }

  /** The current keyring; concurrent callers share one read, a failed read is not cached. */
  get(): Promise<Keyring<K>> {
    const now = this.#o.clock.now().getTime();
    if (this.#cached && now - this.#cached.at < REFRESH_MS) return Promise.resolve(this.#cached.ring);
    if (!this.#loading) {
      const loading = this.#load().then((ring) => {
        this.#cached = { at: this.#o.clock.now().getTime(), ring };
        return ring;
      });
      this.#loading = loading;
      const clear = () => {
        if (this.#loading === loading) this.#loading = undefined;
      };
      loading.then(clear, clear);
    }
    return this.#loading;
  }

  /** Drops the cached keyring so the next get() reads the Secret. */
  forget(): void {
    this.#cached = undefined;
  }

  toJSON(): string {
    return `KeyringSecret(${this.#o.namespace}/${this.#o.name})`;
  }

  async #load(): Promise<Keyring<K>> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const secret = (await this.#read()) ?? (await this.#create());
      if (!secret) continue; // created and deleted concurrently; read again
      const rotated = await this.#maybeRotate(secret);
      if (rotated === "conflict") continue;
      return this.#parse(rotated ?? secret);
    }
    throw new Error(`keyring Secret ${this.#where()} keeps changing under us; try again`);
  }

  async #maybeRotate(secret: Secret): Promise<Secret | "conflict" | undefined> {
    const o = this.#o;
    const requested = secret.metadata?.annotations?.[ROTATE_ANNOTATION];
    if (!requested || requested === secret.metadata?.annotations?.[ROTATED_FOR_ANNOTATION]) return undefined;
    const next = rotateKeyringData(secret.data, o.kind, {
      now: o.clock.now(),
      minIntervalSeconds: o.minIntervalSeconds,
    });
    if (!next.ok) {
      o.warn?.(`keyring Secret ${this.#where()}: rotation not done: ${next.reason}`);
      return undefined;
    }
    try {
      return await o.core.replaceNamespacedSecret({
        namespace: o.namespace,
        name: o.name,
        body: {
          ...secret,
          metadata: {
            ...secret.metadata,
            annotations: { ...secret.metadata?.annotations, [ROTATED_FOR_ANNOTATION]: requested },
          },
          data: next.value,
        },
      });
    } catch (e) {
      // Another replica rotated first (resourceVersion precondition): read its result.
      if (isConflict(e) || isNotFound(e)) return "conflict";
      throw e;
    }
  }

  #parse(secret: Secret): Keyring<K> {
    const r = parseKeyring(secret.data, this.#o.kind);
    if (!r.ok) {
      // A hand-made or damaged Secret is refused rather than overwritten: someone put it there.
      throw new KeyringError(
        `keyring Secret ${this.#where()} ${r.reason}; fix it, or delete it to start a new keyring`,
      );
    }
    return r.value;
  }

  async #read(): Promise<Secret | undefined> {
    try {
      return await this.#o.core.readNamespacedSecret({ namespace: this.#o.namespace, name: this.#o.name });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async #create(): Promise<Secret | undefined> {
    const o = this.#o;
    try {
      return await o.core.createNamespacedSecret({
        namespace: o.namespace,
        body: {
          metadata: { name: o.name, namespace: o.namespace, labels: { ...MANAGED_BY } },
          type: KEYRING_SECRET_TYPE,
          data: initialKeyringData(o.kind, o.clock.now()),
        },
      });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      // Lost the race: the winner's keys are the ones every replica must use.
      return this.#read();
    }
  }

  #where(): string {
    return `${this.#o.namespace}/${this.#o.name}`;
  }
}
