// The client application: a Pod in `default` running as the ServiceAccount of
// manifests/examples/client-app-access.yaml, with nothing but the documented Role. It calls the
// operator's Service from inside the cluster, one `kubectl exec` per call, over TLS, with a
// projected token minted for the API's audience.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OPERATOR_IMAGE } from "../../harness/cluster/images.ts";
import { repoRoot } from "../../harness/paths.ts";
import { kubectl, until } from "./cluster.ts";

export interface CallResult {
  status: number;
  body: Record<string, unknown> & {
    id?: string;
    token?: string;
    state?: string;
    result?: Record<string, unknown>;
  };
}

export interface ClientPod {
  call(method: "GET" | "POST", path: string, body?: unknown, token?: string): CallResult;
}

const NAME = "sign-in-client";
/** The audience the operator accepts tokens for (the chart's api.tokenAudiences). */
export const API_AUDIENCE = "emailauth.dev/api";

/** `caPem` is the CA of the API's serving certificate. */
export async function startClientPod(apiBase: string, caPem: string): Promise<ClientPod> {
  kubectl(["apply", "-f", join(repoRoot, "manifests", "examples", "client-app-access.yaml")]);
  const script = readFileSync(join(import.meta.dirname, "../client/call.ts"), "utf8");
  const manifest = {
    apiVersion: "v1",
    kind: "List",
    items: [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: `${NAME}-script`, namespace: "default" },
        data: { "call.ts": script, "ca.crt": caPem },
      },
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: NAME, namespace: "default", labels: { app: NAME } },
        spec: {
          serviceAccountName: "sign-in-app",
          terminationGracePeriodSeconds: 0,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "client",
              image: OPERATOR_IMAGE,
              imagePullPolicy: "Never",
              // The operator image has Node.js; the Pod idles until a test execs a call.
              command: ["/nodejs/bin/node", "-e", "setInterval(() => {}, 1 << 30)"],
              env: [
                { name: "APP_TOKEN_FILE", value: "/var/run/secrets/emailauth/token" },
                { name: "NODE_EXTRA_CA_CERTS", value: "/client/ca.crt" },
              ],
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [
                { name: "script", mountPath: "/client", readOnly: true },
                { name: "api-token", mountPath: "/var/run/secrets/emailauth", readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: "script", configMap: { name: `${NAME}-script` } },
            {
              name: "api-token",
              projected: {
                sources: [{ serviceAccountToken: { audience: API_AUDIENCE, expirationSeconds: 3600, path: "token" } }],
              },
            },
          ],
        },
      },
    ],
  };
  kubectl(["apply", "-f", "-"], JSON.stringify(manifest));
  await until(`client Pod ${NAME} running`, () =>
    kubectl(["-n", "default", "get", "pod", NAME, "-o", "jsonpath={.status.phase}"]) === "Running" ? true : undefined,
  );
  return {
    call(method, path, body, token = "app") {
      const out = kubectl([
        "-n",
        "default",
        "exec",
        NAME,
        "--",
        "/nodejs/bin/node",
        "/client/call.ts",
        method,
        `${apiBase}${path}`,
        body === undefined ? "-" : JSON.stringify(body),
        token,
      ]);
      return JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as CallResult;
    },
  };
}

export function deleteClientPod(): void {
  kubectl(["-n", "default", "delete", "pod", NAME, "--ignore-not-found", "--wait=true"]);
  kubectl(["-n", "default", "delete", "configmap", `${NAME}-script`, "--ignore-not-found"]);
}
