// Deletes execution Secrets by label, page by page, each with uid and resourceVersion
// preconditions so a Secret that changed since it was listed is left for the next round. Pages
// carry metadata only: the expiry is an annotation, and a sweep reads every expiring Secret of
// the namespace, so their data would be most of what the API server encodes and we parse.
import type { CoreApi, KubernetesObject } from "@emailauth/operator-runtime";
import { isConflict, isNotFound } from "@emailauth/operator-runtime";

export interface DeleteOptions {
  namespace: string;
  labelSelector: string;
  /** Which of a listed page to delete (all by default). */
  select?: (page: KubernetesObject[]) => KubernetesObject[];
  pageSize?: number;
  /** Upper bound per call, so one sweep never runs unbounded. */
  maxDeletes?: number;
}

export async function deleteSecrets(core: CoreApi, o: DeleteOptions): Promise<number> {
  let deleted = 0;
  let cont: string | undefined;
  const max = o.maxDeletes ?? Number.POSITIVE_INFINITY;
  do {
    const page = await core.listNamespacedSecretMetadata({
      namespace: o.namespace,
      labelSelector: o.labelSelector,
      limit: o.pageSize ?? 100,
      ...(cont ? { continue: cont } : {}),
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
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return deleted;
}
