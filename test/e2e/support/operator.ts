// Installing the operator the three ways users do (Helm chart, the all-in-one bundle, kustomize)
// with the locally built image, and reading what runs: Pods, the leader, logs.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { OPERATOR_IMAGE } from "../../harness/cluster/images.ts";
import { nodeTool, paths } from "../../harness/cluster/layout.ts";
import * as stack from "../../harness/cluster/stack.ts";
import { MAILPIT_SMTP_HOST, MAILPIT_SMTP_PORT, OPERATOR_NS, RELEASE } from "../../harness/cluster/stack.ts";
import { repoRoot } from "../../harness/paths.ts";
import { cluster, kubectl, kubectlJson, pods, until } from "./cluster.ts";

export { API_TLS_SECRET, OPERATOR_NS, RELEASE } from "../../harness/cluster/stack.ts";
export const SELECTOR = "app.kubernetes.io/name=email-authenticator-operator";
export const API_BASE = `https://${RELEASE}.${OPERATOR_NS}.svc.cluster.local:8080`;

export const installMailpit = () => stack.installMailpit(kubectl);
export const createApiCertificate = () => stack.createApiCertificate(kubectl);
export const e2eValues = stack.localValues;
export const helmUpgradeInstall = (values: Record<string, unknown>): string =>
  stack.helmUpgradeInstall(cluster.adminKubeconfig, values);

/** The namespace with restricted Pod Security, as manifests/install/namespace.yaml declares it. */
export function createOperatorNamespace(): void {
  kubectl(["apply", "-f", join(repoRoot, "manifests", "install", "namespace.yaml")]);
}

export function operatorPods() {
  return pods(OPERATOR_NS, SELECTOR).filter((p) => !p.deleting);
}

/** Waits for `replicas` ready Pods (none terminating) and returns their names. */
export function waitReadyReplicas(replicas: number, timeoutMs = 120_000): Promise<string[]> {
  return until(
    `${replicas} ready operator Pods`,
    () => {
      const all = pods(OPERATOR_NS, SELECTOR);
      const ready = all.filter((p) => p.ready && !p.deleting);
      return ready.length === replicas && all.length === replicas ? ready.map((p) => p.name) : undefined;
    },
    timeoutMs,
  );
}

/** The Pod whose identity holds the Lease ("<pod name>_<suffix>"), once one does. */
export function waitLeader(exclude?: string, timeoutMs = 60_000): Promise<string> {
  return until(
    "an operator leader",
    () => {
      const lease = kubectlJson<{ spec: { holderIdentity?: string } }>(["-n", OPERATOR_NS, "get", "lease", RELEASE]);
      const holder = lease.spec.holderIdentity ?? "";
      const pod = operatorPods().find((p) => holder.startsWith(`${p.name}_`) && p.ready);
      return pod && pod.name !== exclude ? pod.name : undefined;
    },
    timeoutMs,
  );
}

/**
 * Probe failures (Events with reason Unhealthy) of the operator Pods started since `since`, gone
 * ones included (Events outlive their Pods): a normal start and a rollout must record none. Left
 * out: readiness probes of a Pod the kubelet is already stopping, which it keeps probing until it
 * notices the process has exited (kubernetes/kubernetes#122824); those are counted in `whileStopping`.
 */
export function probeFailures(since: Date): { failures: string[]; whileStopping: number } {
  type Event = {
    reason: string;
    message: string;
    involvedObject: { name: string };
    firstTimestamp?: string;
    eventTime?: string;
    metadata: { creationTimestamp: string };
  };
  const at = (e: Event) => Date.parse(e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp);
  const events = kubectlJson<{ items: Event[] }>([
    "-n",
    OPERATOR_NS,
    "get",
    "events",
    "--field-selector=involvedObject.kind=Pod",
  ]).items.filter((e) => e.involvedObject.name.startsWith(`${RELEASE}-`));
  const stopping = new Map(events.filter((e) => e.reason === "Killing").map((e) => [e.involvedObject.name, at(e)]));
  // Event times have whole seconds.
  const unhealthy = events.filter((e) => e.reason === "Unhealthy" && at(e) >= since.getTime() - 1000);
  const whileStopping = (e: Event) =>
    e.message.startsWith("Readiness probe") && at(e) >= (stopping.get(e.involvedObject.name) ?? Infinity);
  return {
    failures: unhealthy.filter((e) => !whileStopping(e)).map((e) => `${e.involvedObject.name}: ${e.message}`),
    whileStopping: unhealthy.filter(whileStopping).length,
  };
}

/** How long each running operator Pod's process took to open its health port, to load and to serve (its log). */
export function startupTimes(): string[] {
  return operatorPods().map((p) => {
    const lines = kubectl(["-n", OPERATOR_NS, "logs", p.name, "--tail=-1"]).split("\n");
    const ms = (msg: string) => {
      const line = lines.find((l) => l.includes(`"msg":"${msg}"`));
      return line ? `${(JSON.parse(line) as { startupMs: number }).startupMs} ms` : "?";
    };
    return `${p.name}: health port open ${ms("health endpoints listening")}, loaded ${ms("started")}, serving ${ms("serving")}`;
  });
}

/** Everything every operator Pod has logged. */
export function operatorLogs(): string {
  const names = pods(OPERATOR_NS, SELECTOR).map((p) => p.name);
  return names.map((n) => kubectl(["-n", OPERATOR_NS, "logs", n, "--tail=-1"])).join("\n");
}

/** Applies the stage and flows of manifests/examples (namespace default) and the client's access. */
export function applyExamples(): void {
  for (const f of ["email-setup-stage.yaml", "flows.yaml", "client-app-access.yaml"])
    kubectl(["apply", "-f", join(repoRoot, "manifests", "examples", f)]);
}

function patchQuietly(args: readonly string[]): void {
  try {
    kubectl(args);
  } catch {
    // gone in the meantime: the operator removed its finalizer after all
  }
}

const KINDS = "emaildevices.emailauth.dev,flowbindings.emailauth.dev,emailauthenticatorstages.emailauth.dev";

/**
 * Removes every object of our kinds and then the CRDs. With no operator left to remove the stage
 * finalizer, it takes the documented way out (docs/install.md): clear the finalizers by hand.
 */
export function removeEverything(): void {
  const crds = kubectl(["get", "crd", "-o", "name"]);
  if (!crds.includes("emailauth.dev")) return;
  kubectl(["delete", KINDS, "--all", "-A", "--wait=false"]);
  const left = kubectlJson<{ items: { kind: string; metadata: { name: string; namespace: string } }[] }>([
    "get",
    KINDS,
    "-A",
  ]).items;
  for (const o of left)
    patchQuietly([
      "-n",
      o.metadata.namespace,
      "patch",
      `${o.kind.toLowerCase()}.emailauth.dev/${o.metadata.name}`,
      "--type=merge",
      "-p",
      '{"metadata":{"finalizers":null}}',
    ]);
  kubectl(["delete", "crd", ...KINDS.split(","), "--ignore-not-found", "--wait=true", "--timeout=60s"]);
}

/**
 * Makes the local image answer to another name in containerd, as if pulled from a registry, so
 * the bundle (email-authenticator-operator:0.1.0) and the kustomize example
 * (registry.example.com/…) install unchanged with their IfNotPresent pull policy.
 */
export function tagLocalImage(target: string): void {
  const full = target.includes("/") ? target : `docker.io/library/${target}`;
  execFileSync(
    nodeTool("ctr"),
    ["--address", paths.containerdSocket, "-n", "k8s.io", "images", "tag", "--force", OPERATOR_IMAGE, full],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
}

/** The global settings ConfigMap pointing at the in-cluster Mailpit, as a user would create it. */
export function createGlobalSettings(): void {
  kubectl(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "email-authenticator-global-settings", namespace: OPERATOR_NS },
      data: {
        host: MAILPIT_SMTP_HOST,
        port: String(MAILPIT_SMTP_PORT),
        tlsMode: "None",
        fromAddress: "codes@example.com",
      },
    }),
  );
}

/** Deletes the example objects while the operator still runs (it removes its finalizers), then what `args` installed. */
export function uninstallManifests(args: readonly string[]): void {
  kubectl(["delete", KINDS, "--all", "-A", "--wait=true", "--timeout=60s"]);
  kubectl(["delete", ...args, "--ignore-not-found", "--wait=true", "--timeout=120s"]);
}
