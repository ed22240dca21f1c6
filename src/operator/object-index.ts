// A secondary index over an informer's objects, like client-go's Indexer: each object is filed
// under the keys a function gives it (its stage, its flow, …) and kept current from the
// informer's add, update and delete events, so "the bindings of stage s" costs the size of the
// answer instead of a scan of the namespace.

type Meta = { metadata?: { namespace?: string; name?: string } };

export class ObjectIndex<T extends Meta> {
  readonly #keysOf: (o: T) => readonly string[];
  /** Index key → object key ("namespace/name") → latest object. */
  readonly #byKey = new Map<string, Map<string, T>>();
  /** Object key → the index keys it is filed under, to unfile it on update and delete. */
  readonly #filed = new Map<string, readonly string[]>();

  /** `keysOf` returns the index keys of an object; they should include its namespace. */
  constructor(keysOf: (o: T) => readonly string[]) {
    this.#keysOf = keysOf;
  }

  /** Files `o` (added or updated) under its current keys. */
  set(o: T): void {
    const id = objectKey(o);
    this.#unfile(id);
    const keys = [...new Set(this.#keysOf(o))];
    for (const key of keys) {
      const bucket = this.#byKey.get(key) ?? new Map<string, T>();
      if (!bucket.size) this.#byKey.set(key, bucket);
      bucket.set(id, o);
    }
    if (keys.length) this.#filed.set(id, keys);
  }

  delete(o: T): void {
    this.#unfile(objectKey(o));
  }

  /** The objects filed under `key`. */
  get(key: string): T[] {
    const bucket = this.#byKey.get(key);
    return bucket ? [...bucket.values()] : [];
  }

  count(key: string): number {
    return this.#byKey.get(key)?.size ?? 0;
  }

  #unfile(id: string): void {
    for (const key of this.#filed.get(id) ?? []) {
      const bucket = this.#byKey.get(key);
      bucket?.delete(id);
      if (bucket?.size === 0) this.#byKey.delete(key);
    }
    this.#filed.delete(id);
  }
}

function objectKey(o: Meta): string {
  return `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
}

/** An index key from a namespace and values that cannot contain NUL (names, ids). */
export function indexKey(namespace: string, ...values: string[]): string {
  return [namespace, ...values].join("\0");
}
