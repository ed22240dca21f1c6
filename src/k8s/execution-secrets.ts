// Deletes execution Secrets by label, page by page, each with uid and resourceVersion
// preconditions so a Secret that changed since it was listed is left for the next round.
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node";
import { isConflict, isNotFound } from "@emailauth/operator-runtime";

export interface DeleteOptions {
  namespace: string;
  labelSelector: string;
  /** Which of a listed page to delete (all by default). */
  select?: (page: V1Secret[]) => V1Secret[];
  pageSize?: number;
  /** Upper bound per call, so one sweep never runs unbounded. */
  maxDeletes?: number;
}

export async function deleteSecrets(core: CoreV1Api, o: DeleteOptions): Promise<number> {
  let deleted = 0;
  let _continue: string | undefined;
  const max = o.maxDeletes ?? Number.POSITIVE_INFINITY;
  do {
    const page = await core.listNamespacedSecret({
      namespace: o.namespace,
      labelSelector: o.labelSelector,
      limit: o.pageSize ?? 100,
      ...(_continue ? { _continue } : {}),
    });
    for (const secret of (o.select ?? ((p) => p))(page.items)) {
      if (deleted >= max) return deleted;
      const { name, uid, resourceVersion } = secret.metadata ?? {};
      try {
        await core.deleteNamespacedSecret({
          namespace: o.namespace,
          name: name ?? "",
          body: { preconditions: { uid, resourceVersion } },
        });
        deleted++;
      } catch (e) {
        // Gone already, or changed since listed (in use): either way not ours to delete now.
        if (!isNotFound(e) && !isConflict(e)) throw e;
      }
    }
    _continue = page.metadata?._continue;
  } while (_continue);
  return deleted;
}
