// The informer's cache: the latest known state of each object, keyed "namespace/name" like
// client-go's MetaNamespaceKeyFunc. `replace` turns a fresh LIST into the changes a watch
// would have delivered, so handlers see the same add/update/delete after a 410 relist as
// they would have seen live.
import type { Keyed } from "./decode.ts";

export type Delta<T> =
  | { readonly type: "add"; readonly object: T }
  | { readonly type: "update"; readonly old: T; readonly object: T }
  | { readonly type: "delete"; readonly object: T };

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export function keyOf(obj: Keyed): string {
  const name = obj.metadata?.name;
  if (!name) throw new Error(`object without metadata.name (kind ${obj.kind ?? "unknown"})`);
  return objectKey(obj.metadata?.namespace, name);
}

export class Store<T extends Keyed> {
  readonly #items = new Map<string, T>();

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#items.get(objectKey(namespace, name));
  }

  /** All objects, or those of one namespace. */
  list(namespace?: string): T[] {
    const all = [...this.#items.values()];
    return namespace === undefined ? all : all.filter((o) => (o.metadata?.namespace ?? "") === namespace);
  }

  keys(): string[] {
    return [...this.#items.keys()];
  }

  get size(): number {
    return this.#items.size;
  }

  /** Stores `obj` and returns what it replaced. */
  upsert(obj: T): T | undefined {
    const key = keyOf(obj);
    const old = this.#items.get(key);
    this.#items.set(key, obj);
    return old;
  }

  /** Forgets `obj`'s key and returns what was stored under it. */
  remove(obj: Keyed): T | undefined {
    const key = keyOf(obj);
    const old = this.#items.get(key);
    this.#items.delete(key);
    return old;
  }

  /**
   * Makes the store hold exactly `items` and returns the difference, in the order handlers
   * should see it. Unchanged objects (same uid and resourceVersion) produce nothing; an object
   * deleted and re-created under the same name (new uid) is a delete followed by an add, so
   * consumers that track uids are not told it merely changed.
   */
  replace(items: readonly T[]): Delta<T>[] {
    const next = new Map<string, T>();
    for (const item of items) next.set(keyOf(item), item);
    const deltas: Delta<T>[] = [];
    for (const [key, old] of this.#items) {
      const current = next.get(key);
      if (!current || uidOf(current) !== uidOf(old)) deltas.push({ type: "delete", object: old });
    }
    for (const [key, object] of next) {
      const old = this.#items.get(key);
      if (!old || uidOf(old) !== uidOf(object)) deltas.push({ type: "add", object });
      else if (old.metadata?.resourceVersion !== object.metadata?.resourceVersion)
        deltas.push({ type: "update", old, object });
    }
    this.#items.clear();
    for (const [key, object] of next) this.#items.set(key, object);
    return deltas;
  }
}

function uidOf(obj: Keyed): string | undefined {
  return obj.metadata?.uid;
}
