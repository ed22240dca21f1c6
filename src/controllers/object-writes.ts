// The writes controllers make to our kinds, behind one small port. The real one sends merge
// patches carrying the resourceVersion the change was computed from (a concurrent change gives
// 409 and a requeue); reconciler unit tests apply the same writes to in-memory objects.
import type { CustomObjectsApi } from "@emailauth/operator-runtime";
import { type CustomObject, type CustomResource, setFinalizer, writeStatus } from "@emailauth/operator-runtime";

export interface ObjectWrites {
  /** Replaces the object's status with `next` (fields that went away are removed). */
  status(resource: CustomResource, object: CustomObject, next: object): Promise<void>;
  /** Adds or removes one finalizer; a no-op when it already is as wanted. */
  finalizer(resource: CustomResource, object: CustomObject, finalizer: string, present: boolean): Promise<void>;
}

export function apiWrites(custom: CustomObjectsApi): ObjectWrites {
  return {
    status: (resource, object, next) => {
      const m = object.metadata ?? {};
      return writeStatus(
        custom,
        { resource, namespace: m.namespace ?? "", name: m.name ?? "", resourceVersion: m.resourceVersion ?? "" },
        object.status ?? undefined,
        next,
      );
    },
    finalizer: (resource, object, finalizer, present) => setFinalizer(custom, resource, object, finalizer, present),
  };
}
