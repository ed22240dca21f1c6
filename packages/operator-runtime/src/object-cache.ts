// Read access to informer caches, as controllers see it. With a list of watched namespaces the
// operator runs one informer per namespace and kind; this joins them into one view.
import type { KubernetesObject } from "./kube-types.ts";

/** An object the informer's decoder refused: kept out of the typed cache, but not forgotten. */
export interface InvalidObject {
  /** As the API server sent it, for a status write (name, generation, resourceVersion). */
  readonly object: KubernetesObject;
  /** Why it failed to decode; safe to log and to show in a condition message. */
  readonly error: Error;
}

export interface ObjectCache<T> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
  /** The object under this key that failed to decode, if any (informers with a decoder). */
  invalid?(namespace: string, name: string): InvalidObject | undefined;
}

export function joinCaches<T>(byNamespace: ReadonlyMap<string, ObjectCache<T>>): ObjectCache<T> {
  return {
    get: (namespace, name) => byNamespace.get(namespace)?.get(namespace, name),
    invalid: (namespace, name) => byNamespace.get(namespace)?.invalid?.(namespace, name),
    list: (namespace) =>
      namespace === undefined
        ? [...byNamespace.values()].flatMap((c) => c.list())
        : (byNamespace.get(namespace)?.list(namespace) ?? []),
  };
}
