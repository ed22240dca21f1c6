// The stack the benchmark runs on, as `npm run dev` builds it: a real control plane, Mailpit,
// the global SMTP settings pointing at it, and the operator as a real process under its
// least-privilege identity, logging at info, running the bundle the image ships (scripts/bundle.ts). Plus what the phases need: namespaces, an
// application allowed to execute flows, and the stages the flows run on.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi, type KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { KubeClient, loadKubeConfigFile } from "@emailauth/operator-runtime";
import { parseConfig } from "../../src/config/config.ts";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import {
  ControlPlane,
  OPERATOR_NAMESPACE,
  OPERATOR_SERVICE_ACCOUNT,
  serviceAccountToken,
} from "../harness/controlplane.ts";
import { Mailpit } from "../harness/mailpit.ts";
import { type OperatorProcess, startOperator } from "../harness/operator-process.ts";
import { repoRoot } from "../harness/paths.ts";
import { untilAllowed } from "../harness/until-allowed.ts";
import { freePort } from "../harness/ports.ts";
import { ReadyWatch } from "./ready-watch.ts";

export interface Stack {
  plane: ControlPlane;
  mailpit: Mailpit;
  operator: OperatorProcess;
  inspectorPort: number;
  admin: KubeConfig;
  /** The operator's identity and client: the floor's. */
  operatorKube: KubeClient;
  namespaces: { flows: string; scale: string; floor: string };
  appToken: string;
  stop(): Promise<void>;
}

/** Limits high enough that a benchmark user is never throttled by the per-address cap. */
export const BENCH_LIMITS = { sendsPerAddressPerHour: 100 };

export async function startStack(o: {
  heapMiB: number;
  /** Further Node.js options the operator runs with (the chart's). */
  nodeOptions?: string[];
  /** Further environment the operator runs with (the chart's). */
  env?: Record<string, string>;
  log: (m: string) => void;
  /** Where the operator writes a V8 CPU profile when it stops (to see where its CPU per flow goes). */
  cpuProfileDir?: string;
}): Promise<Stack> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s();
  };
  try {
    const plane = await ControlPlane.start({ progress: o.log });
    stops.push(() => plane.stop());
    const mailpit = await Mailpit.start();
    stops.push(() => mailpit.stop());
    o.log(`Mailpit: SMTP on 127.0.0.1:${mailpit.smtpPort}`);
    const admin = plane.admin();
    const core = admin.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({
      namespace: OPERATOR_NAMESPACE,
      body: {
        metadata: { name: "email-authenticator-global-settings" },
        // A send waits for one of the mailer's pooled connections; on a loaded shared machine 32
        // flows in flight can wait longer than the default 10 s.
        data: {
          host: "127.0.0.1",
          port: String(mailpit.smtpPort),
          tlsMode: "None",
          timeout: "60",
          fromAddress: "codes@bench.example",
        },
      },
    });
    const suffix = randomBytes(3).toString("hex");
    const namespaces = {
      flows: `bench-flows-${suffix}`,
      scale: `bench-scale-${suffix}`,
      floor: `bench-floor-${suffix}`,
    };
    for (const ns of Object.values(namespaces)) await namespaceForOperator(admin, ns);
    const appToken = await application(admin, namespaces.flows);
    await flowObjects(admin, namespaces.flows);

    // What the image runs, so memory and CPU are those of the shipped process.
    const bundleDir = mkdtempSync(join(tmpdir(), "eao-bench-bundle-"));
    o.log(
      execFileSync(process.execPath, [join(repoRoot, "scripts", "bundle.ts"), bundleDir], { encoding: "utf8" }).trim(),
    );
    const inspectorPort = await freePort();
    o.log(
      `operator: starting with --max-old-space-size=${o.heapMiB} ${(o.nodeOptions ?? []).join(" ")}, logging at info`,
    );
    const operator = await startOperator({
      kubeconfig: plane.info.operatorKubeconfig,
      // Every simulated user comes from this one address: its per-address limit (20/s by default,
      // about 7 sign-ins/s) would measure the limit, not the cost.
      args: [`--namespaces=${namespaces.flows},${namespaces.scale}`, "--rate-limit-per-address=2000/4000"],
      logLevel: "info",
      entry: join(bundleDir, "operator.mjs"),
      // On the command line, where Node.js takes every V8 flag (NODE_OPTIONS refuses most).
      nodeArgs: (o.nodeOptions ?? []).flatMap((option) => option.split(/\s+/).filter(Boolean)),
      env: {
        ...o.env,
        NODE_OPTIONS: [
          `--max-old-space-size=${o.heapMiB} --inspect=127.0.0.1:${inspectorPort}`,
          ...(o.cpuProfileDir ? [`--cpu-prof --cpu-prof-dir=${o.cpuProfileDir}`] : []),
        ].join(" "),
      },
    });
    stops.push(() => operator.stop());
    const ready = await ReadyWatch.start(admin, namespaces.flows, ["emailauthenticatorstages", "flowbindings"]);
    try {
      await ready.until((w) => w.count >= 5, "the benchmark's stages and bindings Ready", 60_000);
    } finally {
      ready.stop();
    }
    const operatorKube = new KubeClient(loadKubeConfigFile(plane.info.operatorKubeconfig));
    stops.push(() => Promise.resolve(operatorKube.close()));
    return {
      plane,
      mailpit,
      operator,
      inspectorPort,
      admin,
      operatorKube,
      namespaces,
      appToken,
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** A namespace and the binding the chart creates for each watched namespace. */
async function namespaceForOperator(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
  await kc.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
    namespace: name,
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
  await untilAllowed(kc, `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SERVICE_ACCOUNT}`, {
    namespace: name,
    verb: "list",
    group: GROUP,
    resource: "emailauthenticatorstages",
  });
}

/** A ServiceAccount allowed to execute every flow in `namespace`; returns its token. */
async function application(kc: KubeConfig, namespace: string): Promise<string> {
  await kc.makeApiClient(CoreV1Api).createNamespacedServiceAccount({ namespace, body: { metadata: { name: "app" } } });
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name: "run-flows" },
      rules: [{ apiGroups: [GROUP], resources: ["flows"], verbs: ["execute"] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: "app-runs-flows" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "run-flows" },
      subjects: [{ kind: "ServiceAccount", name: "app", namespace }],
    },
  });
  await untilAllowed(kc, `system:serviceaccount:${namespace}:app`, {
    namespace,
    verb: "execute",
    group: GROUP,
    resource: "flows",
  });
  // Issued for the operator's API (its default audiences), as an application's token must be;
  // an operator that names none takes the API server's own.
  const { api } = parseConfig([], {}) as { api?: { tokenAudiences?: string[] } };
  return serviceAccountToken(kc, namespace, "app", undefined, api?.tokenAudiences ?? []);
}

/** Stage "bench" (flows enroll and login) and stage "mem" (flow mem-login) for the memory soak. */
async function flowObjects(kc: KubeConfig, namespace: string): Promise<void> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const create = (plural: string, kind: string, name: string, spec: unknown) =>
    custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name }, spec },
    });
  for (const stage of ["bench", "mem"])
    await create("emailauthenticatorstages", "EmailAuthenticatorStage", stage, {
      useGlobalSettings: true,
      subject: "Your sign-in code",
      friendlyName: "Email code",
      limits: BENCH_LIMITS,
    });
  const binding = (name: string, stage: string, intent: string) =>
    create("flowbindings", "FlowBinding", name, { flow: name, order: 10, stageRef: { name: stage }, intent });
  await binding("enroll", "bench", "Setup");
  await binding("login", "bench", "Authenticate");
  await binding("mem-login", "mem", "Authenticate");
}
