// Watches exactly the Secrets and ConfigMaps that stages reference (one watch per object,
// selected by name), so the operator neither lists nor watches every Secret in the cluster.
// An owner (a stage key) declares its references on each reconcile; watches start for new
// references, stop when no owner needs them, and a change re-enqueues the owners.

export interface ObjectRef {
  kind: "Secret" | "ConfigMap";
  namespace: string;
  name: string;
}

/** One object's watch, as the factory builds it. `get` is null when the object does not exist. */
export interface SingleObjectWatch<T> {
  hasSynced(): boolean;
  get(): T | null;
  stop(): Promise<void>;
}

export type WatchFactory<T> = (ref: ObjectRef, onChange: () => void) => SingleObjectWatch<T>;

export const refKey = (r: ObjectRef): string => `${r.kind}:${r.namespace}/${r.name}`;

export class ReferenceTracker<T> {
  readonly #factory: WatchFactory<T>;
  readonly #onOwnersChanged: (owners: string[]) => void;
  readonly #watches = new Map<string, SingleObjectWatch<T>>();
  readonly #owners = new Map<string, Set<string>>(); // ref key -> owners
  readonly #refsOf = new Map<string, Set<string>>(); // owner -> ref keys

  constructor(factory: WatchFactory<T>, onOwnersChanged: (owners: string[]) => void) {
    this.#factory = factory;
    this.#onOwnersChanged = onOwnersChanged;
  }

  /** Replaces what `owner` references. Returns whether all of them have synced (requeue if not). */
  track(owner: string, refs: readonly ObjectRef[]): boolean {
    const wanted = new Set(refs.map(refKey));
    for (const key of this.#refsOf.get(owner) ?? []) if (!wanted.has(key)) this.#release(owner, key);
    for (const ref of refs) {
      const key = refKey(ref);
      let owners = this.#owners.get(key);
      if (!owners) {
        owners = new Set();
        this.#owners.set(key, owners);
        this.#watches.set(
          key,
          this.#factory(ref, () => this.#onOwnersChanged([...(this.#owners.get(key) ?? [])])),
        );
      }
      owners.add(owner);
    }
    this.#refsOf.set(owner, wanted);
    return refs.every((r) => this.#watches.get(refKey(r))?.hasSynced() ?? false);
  }

  /** The referenced object, null if it does not exist, undefined if not tracked or not synced yet. */
  get(ref: ObjectRef): T | null | undefined {
    const watch = this.#watches.get(refKey(ref));
    return watch?.hasSynced() ? watch.get() : undefined;
  }

  forget(owner: string): void {
    for (const key of this.#refsOf.get(owner) ?? []) this.#release(owner, key);
    this.#refsOf.delete(owner);
  }

  watchedCount(): number {
    return this.#watches.size;
  }

  async stop(): Promise<void> {
    const watches = [...this.#watches.values()];
    this.#watches.clear();
    this.#owners.clear();
    this.#refsOf.clear();
    await Promise.all(watches.map((w) => w.stop()));
  }

  #release(owner: string, key: string): void {
    const owners = this.#owners.get(key);
    owners?.delete(owner);
    if (owners && owners.size === 0) {
      this.#owners.delete(key);
      const watch = this.#watches.get(key);
      this.#watches.delete(key);
      void watch?.stop();
    }
  }
}
