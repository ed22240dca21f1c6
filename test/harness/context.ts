// What an integration test file needs: clients for each identity and a namespace of its own.
import { randomBytes } from "node:crypto";
import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
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
