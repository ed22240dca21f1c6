// Which collection an informer lists and watches. Built-in kinds live under /api/v1 (core) or
// /apis/<group>/<version>; custom kinds always under /apis. A namespace narrows the collection;
// without one it spans all namespaces (or is a cluster-scoped kind).

export interface ResourceRef {
  /** API group; "" for the core group (ConfigMap, Secret, …). */
  readonly group: string;
  readonly version: string;
  /** Lower-case plural resource name, as in RBAC rules: "configmaps", "flowbindings". */
  readonly plural: string;
  /** Only this namespace; omitted: every namespace the identity may list. */
  readonly namespace?: string;
}

const SEGMENT = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The URL path of the collection, e.g. /api/v1/namespaces/ns/configmaps. */
export function collectionPath(ref: ResourceRef): string {
  for (const [what, value] of [
    ["version", ref.version],
    ["plural", ref.plural],
  ] as const) {
    if (!SEGMENT.test(value)) throw new RangeError(`invalid ${what} ${JSON.stringify(value)}`);
  }
  if (ref.group !== "" && !SEGMENT.test(ref.group)) throw new RangeError(`invalid group ${JSON.stringify(ref.group)}`);
  if (ref.namespace !== undefined && !SEGMENT.test(ref.namespace)) {
    throw new RangeError(`invalid namespace ${JSON.stringify(ref.namespace)}`);
  }
  const base = ref.group === "" ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  const scope = ref.namespace === undefined ? "" : `/namespaces/${ref.namespace}`;
  return `${base}${scope}/${ref.plural}`;
}

/** "plural.group" (or just "plural" for core), for logs and metrics labels. */
export function resourceName(ref: ResourceRef): string {
  const name = ref.group === "" ? ref.plural : `${ref.plural}.${ref.group}`;
  return ref.namespace === undefined ? name : `${name}@${ref.namespace}`;
}
