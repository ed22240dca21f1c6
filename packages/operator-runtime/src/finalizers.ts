// Adds or removes our finalizer with a merge patch that carries the resourceVersion it was
// computed from: a concurrent change fails with 409 and the controller retries.
import type { CustomObjectsApi } from "./kube-api.ts";
import type { CustomObject, CustomResource } from "./objects.ts";

export async function setFinalizer(
  api: CustomObjectsApi,
  resource: CustomResource,
  obj: CustomObject,
  finalizer: string,
  present: boolean,
): Promise<void> {
  const current = obj.metadata?.finalizers ?? [];
  if (current.includes(finalizer) === present) return;
  const finalizers = present ? [...current, finalizer] : current.filter((f) => f !== finalizer);
  await api.patchNamespacedCustomObject({
    group: resource.group,
    version: resource.version,
    plural: resource.plural,
    namespace: obj.metadata?.namespace ?? "",
    name: obj.metadata?.name ?? "",
    body: { metadata: { resourceVersion: obj.metadata?.resourceVersion, finalizers } },
  });
}
