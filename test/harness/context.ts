// What an integration test file needs: clients for each identity and a namespace of its own.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CoreV1Api, type KubeConfig, RbacAuthorizationV1Api, type V1Role } from "@kubernetes/client-node";
import { loadAll } from "js-yaml";
import { repoRoot } from "./paths.ts";
import { OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT } from "./controlplane.ts";
import { inject } from "vitest";
import { loadKubeconfig } from "./kubeconfig.ts";
import { untilAllowed } from "./until-allowed.ts";

export function controlPlane() {
  const info = inject("controlPlane");
  return {
    info,
    admin: (): KubeConfig => loadKubeconfig(info.adminKubeconfig),
    operator: (): KubeConfig => loadKubeconfig(info.operatorKubeconfig),
  };
}

const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SERVICE_ACCOUNT}`;

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
  await untilAllowed(kc, OPERATOR_USER, {
    namespace,
    verb: "list",
    group: "emailauth.dev",
    resource: "emailauthenticatorstages",
  });
}

/**
 * The operator's own-namespace Secrets Role of manifests/install/rbac.yaml, copied into `namespace`
 * and bound there: for tests that keep records and counters in a namespace of their own instead
 * of the shared operator namespace (where every operator process's sweeper runs on real time).
 */
export async function grantOperatorSecrets(kc: KubeConfig, namespace: string): Promise<void> {
  const name = "email-authenticator-operator-secrets";
  const role = (loadAll(readFileSync(join(repoRoot, "manifests", "install", "rbac.yaml"), "utf8")) as V1Role[]).find(
    (o) => o.kind === "Role" && o.metadata?.name === name,
  );
  if (!role) throw new Error(`manifests/install/rbac.yaml has no Role ${name}`);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name }, rules: role.rules ?? [] } });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name: OPERATOR_SERVICE_ACCOUNT, namespace: OPERATOR_NAMESPACE }],
    },
  });
  await untilAllowed(kc, OPERATOR_USER, { namespace, verb: "get", group: "", resource: "secrets" });
}
