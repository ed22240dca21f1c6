// Referenced Secrets and ConfigMaps for reconciler unit tests: the real ReferenceTracker over
// watches that read an in-memory map, so tests can add, change and remove references and hold
// a watch back from syncing, the way the operator's single-object watches behave.
import type { KubernetesObject } from "@emailauth/operator-runtime";
import { type ObjectRef, ReferenceTracker } from "@emailauth/operator-runtime";

const refKey = (r: ObjectRef): string => `${r.kind}:${r.namespace}/${r.name}`;

export class FakeReferences {
  readonly objects = new Map<string, KubernetesObject>();
  /** Keys of references whose watch has not listed yet. */
  readonly unsynced = new Set<string>();
  readonly tracker: ReferenceTracker<KubernetesObject>;
  readonly #changed = new Map<string, () => void>();

  constructor(onOwnersChanged: (owners: string[]) => void = () => {}) {
    this.tracker = new ReferenceTracker<KubernetesObject>((ref: ObjectRef, onChange) => {
      const key = refKey(ref);
      this.#changed.set(key, onChange);
      return {
        hasSynced: () => !this.unsynced.has(key),
        get: () => this.objects.get(key) ?? null,
        stop: () => {
          this.#changed.delete(key);
          return Promise.resolve();
        },
      };
    }, onOwnersChanged);
  }

  set(kind: "Secret" | "ConfigMap", namespace: string, name: string, data: Record<string, string> | undefined): void {
    const key = refKey({ kind, namespace, name });
    if (data === undefined) this.objects.delete(key);
    else {
      const encoded =
        kind === "Secret"
          ? { data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])) }
          : { data };
      this.objects.set(key, { apiVersion: "v1", kind, metadata: { namespace, name }, ...encoded });
    }
    this.#changed.get(key)?.();
  }

  /** Whether a watch is open for the reference. */
  watched(kind: "Secret" | "ConfigMap", namespace: string, name: string): boolean {
    return this.#changed.has(refKey({ kind, namespace, name }));
  }
}
