// The Helm chart on a real node, as a user installs it: the locally built image, two replicas
// under restricted Pod Security, one leader; a client Pod completes Setup and Authenticate
// through the Service against the in-cluster Mailpit; the leader Pod deleted mid-flow; an
// upgrade that rolls the Pods; probes, memory, the NetworkPolicy; uninstall keeping CRDs and
// stages, then the documented removal of the kinds and CRDs with the operator gone. Every kind's status is read with kstatus, the library Flux uses.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeTool } from "../harness/cluster/layout.ts";
import { repoRoot } from "../harness/paths.ts";
import { cluster, helm, kubectl, kubectlJson, skipReason, timed, until } from "./support/cluster.ts";
import { deleteClientPod, startClientPod, type ClientPod } from "./support/client-pod.ts";
import { enrollAndSignIn, start, submitCode } from "./support/flows.ts";
import { kstatus, kstatusOne } from "./support/kstatus.ts";
import {
  API_BASE,
  applyExamples,
  createApiCertificate,
  createOperatorNamespace,
  e2eValues,
  helmUpgradeInstall,
  installMailpit,
  OPERATOR_NS,
  operatorLogs,
  operatorPods,
  RELEASE,
  probeFailures,
  removeEverything,
  startupTimes,
  waitLeader,
  waitReadyReplicas,
} from "./support/operator.ts";
import { podRssBytes, quantityBytes } from "./support/pod-memory.ts";

if (skipReason) console.log(`helm-install: skipped: ${skipReason}`);

type DeploymentJson = {
  spec: { template: { spec: { containers: { args: string[]; resources: { requests: { memory: string } } }[] } } };
};

const KSTATUS_NS = "kstatus-e2e";

/**
 * Objects in every state a user must end (and some that end well), created right after the
 * install: the missing-stage grace runs out while the other tests run, and their states must
 * hold across the failover and the upgrade.
 */
function createKstatusObjects(): void {
  const ns = KSTATUS_NS;
  kubectl(["create", "namespace", ns]);
  const kind = (k: string, name: string, spec: Record<string, unknown>) =>
    kubectl(
      ["apply", "-n", ns, "-f", "-"],
      JSON.stringify({ apiVersion: "emailauth.dev/v1alpha1", kind: k, metadata: { name }, spec }),
    );
  kind("EmailAuthenticatorStage", "good", { useGlobalSettings: true });
  kind("EmailAuthenticatorStage", "no-secret", {
    connection: {
      host: "smtp.example.com",
      port: 587,
      useTLS: true,
      fromAddress: "a@example.com",
      credentialsSecretRef: { name: "absent" },
    },
  });
  kind("FlowBinding", "orphan", { flow: "f1", order: 10, stageRef: { name: "missing-stage" }, intent: "Setup" });
  kind("FlowBinding", "on-stalled", { flow: "f2", order: 10, stageRef: { name: "no-secret" }, intent: "Setup" });
  kind("FlowBinding", "fine", { flow: "f3", order: 10, stageRef: { name: "good" }, intent: "Setup" });
  kind("EmailDevice", "pending", {
    stageRef: { name: "good" },
    user: { id: "p" },
    email: "p@example.com",
    confirmed: false,
  });
  kind("EmailDevice", "confirmed", {
    stageRef: { name: "good" },
    user: { id: "c" },
    email: "c@example.com",
    confirmed: true,
  });
}

describe.skipIf(skipReason !== undefined)("Helm chart on a real node", () => {
  let mail: Awaited<ReturnType<typeof installMailpit>>;
  let client: ClientPod;
  const codes: string[] = [];
  let installed: Date;

  beforeAll(
    () =>
      timed("helm-install: install", async () => {
        installed = new Date();
        mail = await installMailpit();
        createOperatorNamespace();
        const { caPem } = createApiCertificate();
        // Created before the install, so it starts while Helm waits for the operator's Pods.
        const clientStarted = startClientPod(API_BASE, caPem);
        helmUpgradeInstall(e2eValues());
        applyExamples();
        createKstatusObjects();
        client = await clientStarted;
        await until("the example flows Ready", () =>
          kstatus(["-n", "default", "flowbindings"]).every((l) => l.status === "Current") ? true : undefined,
        );
      }),
    300_000,
  );

  afterAll(
    () =>
      timed("helm-install: clean-up", () => {
        deleteClientPod();
        try {
          helm(["uninstall", RELEASE, "-n", OPERATOR_NS, "--wait", "--timeout", "180s"]);
        } catch {
          // already uninstalled by the last test
        }
        removeEverything();
      }),
    300_000,
  );

  it("runs two ready replicas under restricted Pod Security, one of them leading", async () => {
    const ns = kubectlJson<{ metadata: { labels: Record<string, string> } }>(["get", "namespace", OPERATOR_NS]);
    expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    const names = await waitReadyReplicas(2);
    expect(names).toContain(await waitLeader());
    expect(kstatus(["-n", OPERATOR_NS, "deployment", RELEASE]).map((s) => s.status)).toEqual(["Current"]);
  });

  it("completes Setup and Authenticate from a client Pod through the Service; every kind Current", async () => {
    codes.push(...(await enrollAndSignIn(client, mail, "alice-e2e")));
    const all = kstatus(["-n", "default", "emailauthenticatorstages,flowbindings,emaildevices"]);
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const line of all) expect(line, JSON.stringify(line)).toMatchObject({ status: "Current" });
  });

  it("completes an execution started before the leader Pod is deleted", async () => {
    const leader = await waitLeader();
    const started = start(client, "enroll-email", "failover-e2e");
    const code = await mail.codeFor(started.email);
    kubectl(["-n", OPERATOR_NS, "delete", "pod", leader, "--wait=false"]);
    expect(await waitLeader(leader)).not.toBe(leader);
    const done = submitCode(client, started, code);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.state).toBe("completed");
    codes.push(code);
    // The new leader reconciles the device the execution created.
    await until("every device Current under the new leader", () => {
      const lines = kstatus(["-n", "default", "emaildevices"]);
      return lines.length >= 2 && lines.every((l) => l.status === "Current") ? lines : undefined;
    });
    await waitReadyReplicas(2);
  });

  it("rolls the Pods on `helm upgrade` with a changed value and keeps a live execution", async () => {
    const before = operatorPods().map((p) => p.name);
    const started = start(client, "enroll-email", "upgrade-e2e");
    const code = await mail.codeFor(started.email);
    helmUpgradeInstall(e2eValues({ logLevel: "debug" }));
    const after = await waitReadyReplicas(2);
    expect(after.filter((n) => before.includes(n))).toEqual([]);
    const args = kubectlJson<DeploymentJson>(["-n", OPERATOR_NS, "get", "deployment", RELEASE]).spec.template.spec
      .containers[0]?.args;
    expect(args).toContain("--log-level=debug");
    const done = submitCode(client, started, code);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.state).toBe("completed");
    codes.push(code);
  });

  it("keeps probes and resources true to the Pod: no probe failure in any start or rollout, memory request above idle RSS", () => {
    // Every Pod so far: the install, the leader's replacement and the upgrade's rollout.
    console.log(`helm-install: process start to probes answered and to ready\n  ${startupTimes().join("\n  ")}`);
    const probes = probeFailures(installed);
    console.log(`helm-install: ${probes.whileStopping} readiness probe(s) refused by Pods already stopping`);
    expect(probes.failures).toEqual([]);
    const request = kubectlJson<DeploymentJson>(["-n", OPERATOR_NS, "get", "deployment", RELEASE]).spec.template.spec
      .containers[0]?.resources.requests.memory;
    for (const pod of operatorPods()) {
      const rss = podRssBytes(OPERATOR_NS, pod.name);
      console.log(`helm-install: ${pod.name} resident memory ${(rss / 2 ** 20).toFixed(0)} MiB, request ${request}`);
      expect(rss).toBeGreaterThan(0);
      expect(rss).toBeLessThan(quantityBytes(request ?? "0"));
    }
  });

  it("reports no kstatus InProgress for a state only a user change can end", async () => {
    const ns = KSTATUS_NS;
    const what = ["-n", ns, "emailauthenticatorstages,flowbindings,emaildevices"];
    // Settled: every object observed at its generation; then the operator gets time to look again.
    await until("every object reconciled", () => {
      const all = kstatus(what);
      return all.length === 7 && all.every((l) => !l.message.includes("generation")) ? all : undefined;
    });
    // A binding whose stage is missing stays Reconciling for a grace period (15 s, for GitOps tools
    // that apply a stage and its bindings together), then Stalled; a state that never leaves
    // InProgress times this out.
    const settled = await until(
      "no object InProgress past the missing-stage grace",
      () => {
        const all = kstatus(what);
        return all.every((l) => l.status !== "InProgress") ? all : undefined;
      },
      45_000,
    );
    console.log(
      `helm-install: kstatus\n${settled.map((l) => `  ${l.kind}/${l.name}: ${l.status} ${l.message}`).join("\n")}`,
    );
    const byName = Object.fromEntries(settled.map((l) => [`${l.kind}/${l.name}`, l]));
    expect(byName["EmailAuthenticatorStage/good"]?.status).toBe("Current");
    expect(byName["FlowBinding/fine"]?.status).toBe("Current");
    expect(byName["EmailDevice/confirmed"]?.status).toBe("Current");
    for (const name of ["EmailAuthenticatorStage/no-secret", "FlowBinding/orphan", "FlowBinding/on-stalled"])
      expect(byName[name], name).toMatchObject({ status: "Failed" });
    expect(byName["EmailDevice/pending"]?.status, "a declared unconfirmed device").not.toBe("InProgress");
  });

  it("deletes a namespace holding stages, bindings and devices without hanging", async () => {
    kubectl(["delete", "namespace", KSTATUS_NS, "--wait=false"]);
    await until(
      `namespace ${KSTATUS_NS} gone`,
      () => (kubectl(["get", "namespaces", "-o", "name"]).includes(`namespace/${KSTATUS_NS}`) ? undefined : true),
      90_000,
    );
  });

  it("allows the API server in its NetworkPolicy on the address and port it actually uses", () => {
    helmUpgradeInstall(e2eValues({ logLevel: "debug", networkPolicy: { enabled: true } }));
    const slice = kubectlJson<{ items: { ports: { port: number }[]; endpoints: { addresses: string[] }[] }[] }>([
      "-n",
      "default",
      "get",
      "endpointslices",
      "-l",
      "kubernetes.io/service-name=kubernetes",
    ]).items[0];
    const port = slice?.ports[0]?.port;
    const address = slice?.endpoints[0]?.addresses[0];
    expect(port).toBe(6443); // not the Service's 443: policies see the translated destination
    const policy = kubectlJson<{
      spec: { egress: { ports: { port: number }[]; to?: { ipBlock: { cidr: string } }[] }[] };
    }>(["-n", OPERATOR_NS, "get", "networkpolicy", RELEASE]);
    const apiRule = policy.spec.egress[0];
    expect(apiRule?.ports.map((p) => p.port)).toEqual([port]);
    expect(apiRule?.to?.map((t) => t.ipBlock.cidr)).toEqual([`${address}/32`]);
  });

  it("prints its options with --help in the image, as values.yaml points out", () => {
    // What `docker run <image> --help` runs: the Dockerfile's ENTRYPOINT with the flag.
    const dockerfile = readFileSync(join(repoRoot, "Dockerfile"), "utf8");
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? "[]") as string[];
    expect(entrypoint.length).toBeGreaterThan(0);
    const pod = operatorPods()[0]?.name ?? "";
    const help = kubectl(["-n", OPERATOR_NS, "exec", pod, "--", ...entrypoint, "--help"]);
    expect(help).toContain("Options:");
    expect(help).toContain("--health-port");
  });

  it("never logs a code, in any Pod", () => {
    const logs = operatorLogs();
    expect(logs.length).toBeGreaterThan(0);
    expect(codes.length).toBeGreaterThanOrEqual(4);
    for (const code of codes) expect(logs).not.toContain(code);
  });

  it("keeps the CRDs and the stages on `helm uninstall` (crds.keep), stopping the Pods before their RBAC goes", () => {
    const out = helm(["uninstall", RELEASE, "-n", OPERATOR_NS, "--wait", "--timeout", "180s"]);
    expect(out).toContain("uninstalled");
    // The pre-delete Job stopped the Pods (which released the Lease) and then deleted the Lease.
    expect(kubectl(["-n", OPERATOR_NS, "get", "lease", RELEASE, "--ignore-not-found", "-o", "name"]).trim()).toBe("");
    expect(kubectl(["-n", OPERATOR_NS, "get", "jobs,roles,serviceaccounts", "-o", "name"])).not.toContain("uninstall");
    expect(kubectl(["get", "crd", "emailauthenticatorstages.emailauth.dev", "-o", "name"]).trim()).toBe(
      "customresourcedefinition.apiextensions.k8s.io/emailauthenticatorstages.emailauth.dev",
    );
    expect(kstatusOne("emailauthenticatorstage", "email-setup").name).toBe("email-setup");
    expect(operatorPods()).toEqual([]);
  });

  it("removes the kinds and the CRDs with the operator gone, by the commands docs/install.md gives", () => {
    // A stage with deviceDeletionPolicy Delete carries the operator's finalizer, and nobody is left
    // to remove it: the documented commands must still get everything out without hanging.
    kubectl(["-n", "default", "patch", "eas", "email-setup", "--type=merge", "-p", FINALIZED]);
    execFileSync("bash", ["-euo", "pipefail", "-c", documentedRemoval()], {
      env: {
        ...process.env,
        PATH: `${dirname(nodeTool("kubectl"))}:${process.env.PATH ?? ""}`,
        KUBECONFIG: cluster.adminKubeconfig,
      },
      timeout: 180_000,
      stdio: "pipe",
    });
    expect(kubectl(["get", "crd", "-o", "name"])).not.toContain("emailauth.dev");
  });
});

const FINALIZED = JSON.stringify({ metadata: { finalizers: ["emailauth.dev/devices"] } });

/** The shell block docs/install.md gives for removing everything once the operator is gone. */
function documentedRemoval(): string {
  const doc = readFileSync(join(repoRoot, "docs", "install.md"), "utf8");
  const block = /<!-- remove-everything:[^>]*-->\s*```sh\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/install.md has no remove-everything block");
  return block;
}
