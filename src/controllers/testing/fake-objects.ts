// In-memory objects for reconciler unit tests, after client-go's fake clientset and
// cert-manager's controller tests: the caches a reconciler reads and the writes it makes act
// on the same objects, with the resourceVersion precondition the API server applies, so a test
// sees what would be stored and a write computed from a stale object fails with 409. Reads go
// through the kind's decoder as the operator's informers do.
import type { KubernetesObject } from "@emailauth/operator-runtime";
import type {
  Condition,
  CustomObject,
  CustomResource,
  DecodeFunction,
  InvalidObject,
  ObjectCache,
} from "@emailauth/operator-runtime";
import type { ObjectWrites } from "../object-writes.ts";

type Obj = CustomObject<unknown, unknown> & { metadata: NonNullable<CustomObject["metadata"]> };

/** What a status write stores, as tests read it back. */
export type StoredObject = Obj & { status?: { observedGeneration?: number; conditions?: Condition[] } };

export class ConflictError extends Error {
  readonly code = 409;
}

/**
 * Holds objects as the API server would and serves them through `decode` as the operator's
 * informers do: a decoded object from get/list, one that fails from `invalid`.
 */
export class FakeObjects<T extends CustomObject = CustomObject> implements ObjectCache<T> {
  readonly #items = new Map<string, Obj>();
  readonly #decode: DecodeFunction<T>;
  readonly #versions: { next: number };

  constructor(decode: DecodeFunction<T>, versions: { next: number } = { next: 1 }) {
    this.#decode = decode;
    this.#versions = versions;
  }

  /** Creates or replaces an object as a user would (status is kept unless given, generation bumps on a spec change). */
  apply(
    obj: { metadata: { namespace: string; name: string } & Record<string, unknown>; spec?: unknown; status?: unknown },
    createdAt?: Date,
  ): Obj {
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    const previous = this.#items.get(key);
    const specChanged = !previous || JSON.stringify(previous.spec) !== JSON.stringify(obj.spec);
    const generation = (previous?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
    const stored: Obj = {
      ...previous,
      ...obj,
      metadata: {
        uid: previous?.metadata.uid ?? `uid-${key}`,
        creationTimestamp: (createdAt ?? new Date("2026-01-01T00:00:00Z")).toISOString(),
        ...previous?.metadata,
        ...obj.metadata,
        generation,
        resourceVersion: String(this.#versions.next++),
      } as Obj["metadata"],
    };
    this.#items.set(key, stored);
    return stored;
  }

  /** Deletes the object; it stays, marked, while it has finalizers, as on the API server. */
  delete(namespace: string, name: string, at = new Date("2026-01-01T00:00:00Z")): void {
    const o = this.#items.get(`${namespace}/${name}`);
    if (!o) return;
    if (!o.metadata.finalizers?.length) this.#items.delete(`${namespace}/${name}`);
    else this.#bump(o, { metadata: { ...o.metadata, deletionTimestamp: at.toISOString() } });
  }

  get(namespace: string, name: string): T | undefined {
    const raw = this.#items.get(`${namespace}/${name}`);
    const decoded = raw && this.#decode(raw);
    return decoded instanceof Error ? undefined : decoded;
  }

  list(namespace?: string): T[] {
    return [...this.#items.values()]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .map((o) => this.#decode(o as KubernetesObject))
      .filter((o): o is T => !(o instanceof Error));
  }

  invalid(namespace: string, name: string): InvalidObject | undefined {
    const raw = this.#items.get(`${namespace}/${name}`);
    const decoded = raw && this.#decode(raw);
    return decoded instanceof Error ? { object: raw as KubernetesObject, error: decoded } : undefined;
  }

  /** The object as stored, valid or not. */
  raw(namespace: string, name: string): StoredObject | undefined {
    return this.#items.get(`${namespace}/${name}`) as StoredObject | undefined;
  }

  /** Applies a write made from `from`, refusing it if the object changed since. */
  write(from: CustomObject, change: (o: Obj) => Partial<Obj>): void {
    const key = `${from.metadata?.namespace}/${from.metadata?.name}`;
    const current = this.#items.get(key);
    if (!current) throw Object.assign(new Error(`${key} not found`), { code: 404 });
    if (current.metadata.resourceVersion !== from.metadata?.resourceVersion)
      throw new ConflictError(`${key} changed since resourceVersion ${from.metadata?.resourceVersion}`);
    this.#bump(current, change(current));
  }

  #bump(o: Obj, change: Partial<Obj>): void {
    const next: Obj = { ...o, ...change, metadata: { ...o.metadata, ...change.metadata } };
    next.metadata.resourceVersion = String(this.#versions.next++);
    // Removing the last finalizer of a deleted object lets it go, as on the API server.
    if (next.metadata.deletionTimestamp && !next.metadata.finalizers?.length)
      this.#items.delete(`${o.metadata.namespace}/${o.metadata.name}`);
    else this.#items.set(`${o.metadata.namespace}/${o.metadata.name}`, next);
  }
}

export interface WriteRecord {
  kind: "status" | "finalizer";
  plural: string;
  name: string;
}

/** ObjectWrites over FakeObjects, keyed by plural; records every write that was applied. */
export class FakeWrites implements ObjectWrites {
  readonly log: WriteRecord[] = [];
  readonly #stores: Record<string, Pick<FakeObjects, "write">>;

  constructor(stores: Record<string, Pick<FakeObjects, "write">>) {
    this.#stores = stores;
  }

  status(resource: CustomResource, object: CustomObject, next: object): Promise<void> {
    return this.#apply(resource, object, "status", () => ({ status: structuredClone(next) }));
  }

  finalizer(resource: CustomResource, object: CustomObject, finalizer: string, present: boolean): Promise<void> {
    const current = object.metadata?.finalizers ?? [];
    if (current.includes(finalizer) === present) return Promise.resolve();
    const finalizers = present ? [...current, finalizer] : current.filter((f) => f !== finalizer);
    return this.#apply(resource, object, "finalizer", (o) => ({ metadata: { ...o.metadata, finalizers } }));
  }

  async #apply(
    resource: CustomResource,
    object: CustomObject,
    kind: WriteRecord["kind"],
    change: (o: Obj) => Partial<Obj>,
  ): Promise<void> {
    const store = this.#stores[resource.plural];
    if (!store) throw new Error(`no fake store for ${resource.plural}`);
    store.write(object, change);
    this.log.push({ kind, plural: resource.plural, name: object.metadata?.name ?? "" });
    await Promise.resolve();
  }
}
