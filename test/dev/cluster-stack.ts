// What `npm run dev:cluster` puts on the node: Mailpit and the operator (the chart, local image)
// in Pods, the examples in `default`, a port-forward to the operator's Service, and .dev/env for
// the same walk-through as `npm run dev`. Also used by the e2e test that runs that walk-through.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { nodeTool, paths } from "../harness/cluster/layout.ts";
import {
  createApiCertificate,
  helmUpgradeInstall,
  installMailpit,
  type Kubectl,
  localValues,
  OPERATOR_NS,
  RELEASE,
} from "../harness/cluster/stack.ts";
import { repoRoot } from "../harness/paths.ts";
import { waitFor } from "../harness/wait.ts";

export interface DevClusterStack {
  envFile: string;
  env: Record<string, string>;
  stop(): void;
}

export async function installDevStack(
  kubectl: Kubectl,
  devDir: string,
  log: (m: string) => void,
): Promise<DevClusterStack> {
  mkdirSync(join(devDir, "pki"), { recursive: true });
  const mailpit = await installMailpit(kubectl);
  log(`Mailpit: running in namespace mail, API and web UI ${mailpit.url}`);
  kubectl(["apply", "-f", join(repoRoot, "manifests", "install", "namespace.yaml")]);
  const cert = createApiCertificate(kubectl, join(devDir, "pki"));
  helmUpgradeInstall(paths.adminKubeconfig, localValues());
  log(`operator: chart installed as release ${RELEASE} in ${OPERATOR_NS} (two replicas, restricted Pod Security)`);
  const examples = join(repoRoot, "manifests", "examples");
  // The API certificate is made above; cert-manager objects in the examples have no CRDs here.
  for (const file of readdirSync(examples).sort()) {
    const items = (loadAll(readFileSync(join(examples, file), "utf8")) as ({ apiVersion?: string } | null)[]).filter(
      (o): o is { apiVersion: string } => !!o?.apiVersion && !o.apiVersion.startsWith("cert-manager.io/"),
    );
    if (items.length) kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items }));
  }
  log("applied manifests/examples");

  // The host reaches the API through a port-forward, as a developer would (the certificate names localhost).
  const forward: ChildProcess = spawn(
    nodeTool("kubectl"),
    ["--kubeconfig", paths.adminKubeconfig, "-n", OPERATOR_NS, "port-forward", `service/${RELEASE}`, ":8080", ":8081"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  forward.stdout?.on("data", (b: Buffer) => (output += b.toString()));
  const ports = await waitFor(
    () => {
      const found = [...output.matchAll(/Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/g)];
      const api = found.find((m) => m[2] === "8080")?.[1];
      const health = found.find((m) => m[2] === "8081")?.[1];
      return api && health ? { api, health } : undefined;
    },
    { what: "kubectl port-forward to the operator", timeoutMs: 30_000 },
  );
  const env = {
    KUBECONFIG: paths.adminKubeconfig,
    MAILPIT_URL: mailpit.url,
    SMTP_ADDRESS: "mailpit.mail.svc.cluster.local:1025",
    OPERATOR_URL: `https://localhost:${ports.api}`,
    CURL_CA_BUNDLE: cert.caFile,
    OPERATOR_HEALTH_URL: `http://127.0.0.1:${ports.health}`,
  };
  const envFile = join(devDir, "env");
  const lines = Object.entries(env).map(([k, v]) => `export ${k}=${v}`);
  lines.push(`export PATH=${join(repoRoot, "tools", "bin")}:$PATH`);
  writeFileSync(envFile, `${lines.join("\n")}\n`);
  return { envFile, env, stop: () => void forward.kill() };
}
