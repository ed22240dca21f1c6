// Kubeconfig files for the identities the harness hands out (bearer tokens, pinned CA).
import { writeFileSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { dump } from "js-yaml";

export interface Endpoint {
  server: string;
  caFile: string;
}

export function writeKubeconfig(path: string, endpoint: Endpoint, user: string, token: string): void {
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "local", cluster: { server: endpoint.server, "certificate-authority": endpoint.caFile } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: "local", user, namespace: "default" } }],
    "current-context": user,
  };
  writeFileSync(path, dump(config), { mode: 0o600 });
}

export function loadKubeconfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}
