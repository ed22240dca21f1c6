// Writes a custom object's status subresource: a JSON merge patch carrying the
// resourceVersion the status was computed from, so a concurrent change makes it fail with 409
// (and the controller requeues) instead of overwriting newer data.
import type { CustomObjectsApi } from "./kube-api.ts";
import type { CustomResource } from "./objects.ts";

export interface StatusTarget {
  resource: CustomResource;
  namespace: string;
  name: string;
  resourceVersion: string;
}

export async function writeStatus(
  api: CustomObjectsApi,
  target: StatusTarget,
  previous: object | undefined,
  next: object,
): Promise<void> {
  const { resource, namespace, name, resourceVersion } = target;
  await api.patchNamespacedCustomObjectStatus({
    group: resource.group,
    version: resource.version,
    plural: resource.plural,
    namespace,
    name,
    body: { metadata: { resourceVersion }, status: mergePatch(previous, next) },
  });
}

/** A merge patch replaces what it names; fields that went away must be named as null. */
export function mergePatch(previous: object | undefined, next: object): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...next };
  for (const key of Object.keys(previous ?? {})) if (!(key in next)) patch[key] = null;
  return patch;
}
