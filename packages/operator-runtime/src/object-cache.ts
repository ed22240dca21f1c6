// Read access to informer caches, as controllers see it. With a list of watched namespaces the
// operator runs one informer per namespace and kind; this joins them into one view.

export interface ObjectCache<T> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
}

export function joinCaches<T>(byNamespace: ReadonlyMap<string, ObjectCache<T>>): ObjectCache<T> {
  return {
    get: (namespace, name) => byNamespace.get(namespace)?.get(namespace, name),
    list: (namespace) =>
      namespace === undefined
        ? [...byNamespace.values()].flatMap((c) => c.list())
        : (byNamespace.get(namespace)?.list(namespace) ?? []),
  };
}
