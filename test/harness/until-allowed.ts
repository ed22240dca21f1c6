// Waiting for an RBAC grant to take effect; no test-runner imports, so the benchmark uses it too.
import { AuthorizationV1Api, type KubeConfig, type V1ResourceAttributes } from "@kubernetes/client-node";

/**
 * The API server authorizes from an informer's copy of RBAC objects, so a binding just created
 * can still be refused for a moment (a 403 seen in CI). Ask the same authorizer until it agrees.
 */
export async function untilAllowed(kc: KubeConfig, user: string, attributes: V1ResourceAttributes): Promise<void> {
  const reviews = kc.makeApiClient(AuthorizationV1Api);
  for (let attempt = 0; ; attempt++) {
    const review = await reviews.createSubjectAccessReview({
      body: { spec: { user, resourceAttributes: attributes } },
    });
    if (review.status?.allowed) return;
    if (attempt >= 100) throw new Error(`${user} still may not ${JSON.stringify(attributes)} after 10 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
