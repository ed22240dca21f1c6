// What an integration test file needs: clients for each identity and a namespace of its own.
import { randomBytes } from "node:crypto";
import { CoreV1Api, type KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT } from "./controlplane.ts";
import { inject } from "vitest";
import { loadKubeconfig } from "./kubeconfig.ts";

export function controlPlane() {
  const info = inject("controlPlane");
  return {
    info,
    admin: (): KubeConfig => loadKubeconfig(info.adminKubeconfig),
    operator: (): KubeConfig => loadKubeconfig(info.operatorKubeconfig),
  };
}

/** Namespaces are never deleted: without kube-controller-manager they would stay Terminating. */
export async function createTestNamespace(kc: KubeConfig, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString("hex")}`;
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  return name;
}

/** What the Helm chart does for each watched namespace: bind the operator's namespace role. */
export async function grantOperatorNamespace(kc: KubeConfig, namespace: string): Promise<void> {
  await kc.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: "email-authenticator-operator-namespace" },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "email-authenticator-operator-namespace",
      },
      subjects: [{ kind: "ServiceAccount", name: OPERATOR_SERVICE_ACCOUNT, namespace: OPERATOR_NAMESPACE }],
    },
  });
}
