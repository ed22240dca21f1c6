// The Helm chart, checked with a real Helm (tools/bin/helm, built by tools/build.sh): lint,
// what it renders for the default and a namespaced install, the values it refuses, and that
// its flags, ConfigMap and RBAC are the ones the operator and manifests/install agree on.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load, loadAll } from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { customResourceDefinition } from "../../src/kinds/crd.ts";
import { globalSettingsData } from "../../src/kinds/global-settings.ts";
import { EMAIL_PATTERN } from "../../src/kinds/v1alpha1/common.ts";
import { allKinds } from "../../src/kinds/v1alpha1/kinds.ts";
import { parseConfig } from "../../src/config/config.ts";
import { LOG_LEVELS } from "../../src/log/logger.ts";
import { chartDir, helm, helmBin, render, type RenderedObject, template } from "../harness/helm.ts";
import { repoRoot } from "../harness/paths.ts";

const NS = "email-authenticator-system";

type Probe = { httpGet: { path: string; port: string }; timeoutSeconds?: number };

type Container = {
  name: string;
  args: string[];
  env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: { name: string; mountPath: string }[];
};
type PodSpec = {
  serviceAccountName: string;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: Record<string, unknown>[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
};
type Deployment = RenderedObject & { spec: { replicas: number; template: { spec: PodSpec } } };
type Subject = { kind: string; name: string; namespace?: string };
type Binding = RenderedObject & { roleRef: { kind: string; name: string }; subjects: Subject[] };

const find = (objects: RenderedObject[], kind: string, name?: string) =>
  objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = <T extends RenderedObject>(objects: RenderedObject[], kind: string, name?: string): T => {
  const found = find(objects, kind, name);
  expect(found, `exactly one ${kind} ${name ?? ""}`).toHaveLength(1);
  return found[0] as T;
};
const deploymentOf = (objects: RenderedObject[]) => one<Deployment>(objects, "Deployment");
const containerOf = (objects: RenderedObject[]): Container => {
  const c = deploymentOf(objects).spec.template.spec.containers[0];
  if (!c) throw new Error("no container");
  return c;
};

/** What the operator makes of the container's arguments, with POD_NAMESPACE as the downward API sets it. */
function operatorConfig(objects: RenderedObject[], podNamespace = NS) {
  const container = containerOf(objects);
  const env: Record<string, string> = {};
  for (const e of container.env) {
    if (e.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") env[e.name] = podNamespace;
    else if (e.value !== undefined) env[e.name] = e.value;
  }
  return parseConfig(container.args, env, { hostname: () => "pod", randomSuffix: () => "x" });
}

/**
 * The "restricted" Pod Security Standard (kubernetes.io/docs/concepts/security/pod-security-standards),
 * its baseline checks included, as far as a pod spec alone decides them.
 */
function restrictedViolations(pod: PodSpec): string[] {
  const problems: string[] = [];
  const podSc = (pod.securityContext ?? {}) as {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    seccompProfile?: { type?: string };
  };
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push("host namespaces");
  const allowedVolumes = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
  ];
  for (const v of pod.volumes ?? []) {
    const type = Object.keys(v).find((k) => k !== "name") ?? "";
    if (!allowedVolumes.includes(type)) problems.push(`volume type ${type}`);
  }
  if (podSc.runAsUser === 0) problems.push("pod runAsUser 0");
  for (const c of pod.containers) {
    const sc = (c.securityContext ?? {}) as {
      privileged?: boolean;
      allowPrivilegeEscalation?: boolean;
      runAsNonRoot?: boolean;
      runAsUser?: number;
      seccompProfile?: { type?: string };
      capabilities?: { drop?: string[]; add?: string[] };
    };
    if (sc.privileged) problems.push(`${c.name}: privileged`);
    if (sc.allowPrivilegeEscalation !== false) problems.push(`${c.name}: allowPrivilegeEscalation must be false`);
    if ((sc.runAsNonRoot ?? podSc.runAsNonRoot) !== true) problems.push(`${c.name}: runAsNonRoot must be true`);
    if (sc.runAsUser === 0) problems.push(`${c.name}: runAsUser 0`);
    const seccomp = sc.seccompProfile?.type ?? podSc.seccompProfile?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") problems.push(`${c.name}: seccompProfile ${seccomp}`);
    if (!sc.capabilities?.drop?.includes("ALL")) problems.push(`${c.name}: capabilities must drop ALL`);
    for (const cap of sc.capabilities?.add ?? [])
      if (cap !== "NET_BIND_SERVICE") problems.push(`${c.name}: adds ${cap}`);
    if (c.ports.some((p) => "hostPort" in p)) problems.push(`${c.name}: hostPort`);
  }
  return problems;
}

/** Helm's refusal of the values, or "" when it renders. */
function refusal(values: Record<string, unknown>): string {
  const result = template({ values });
  return result.status === 0 ? "" : result.stderr;
}

beforeAll(() => {
  expect(helm(["version", "--short"]).stdout, helmBin).toMatch(/^v3\./);
});

describe("helm lint --strict", () => {
  it("passes with the defaults", () => {
    const result = helm(["lint", "--strict", chartDir]);
    expect(result.stdout + result.stderr).toContain("0 chart(s) failed");
    expect(result.status).toBe(0);
  });

  it("passes with every optional part switched on", () => {
    const values = join(chartDir, "values.yaml"); // lint needs a file; --set covers the rest
    const result = helm([
      "lint",
      "--strict",
      chartDir,
      "--values",
      values,
      "--set",
      "watchNamespaces={team-a,team-b},globalSettings.create=true,networkPolicy.enabled=true,metrics.serviceMonitor.enabled=true",
    ]);
    expect(result.stdout + result.stderr).toContain("0 chart(s) failed");
    expect(result.status).toBe(0);
  });
});

describe("helm template with the defaults", () => {
  const { objects } = render();

  it("renders the CRDs, the operator's identity and RBAC, its Deployment, Service and PDB, nothing optional", () => {
    const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    expect(kinds).toEqual(
      [
        ...allKinds.map((k) => `CustomResourceDefinition/${k.plural}.emailauth.dev`),
        "ClusterRole/email-authenticator-operator",
        "ClusterRole/email-authenticator-operator-namespace",
        "ClusterRoleBinding/email-authenticator-operator",
        "ClusterRoleBinding/email-authenticator-operator-namespace",
        "Deployment/email-authenticator-operator",
        "PodDisruptionBudget/email-authenticator-operator",
        "Role/email-authenticator-operator-leader-election",
        "Role/email-authenticator-operator-secrets",
        "RoleBinding/email-authenticator-operator-leader-election",
        "RoleBinding/email-authenticator-operator-secrets",
        "Service/email-authenticator-operator",
        "ServiceAccount/email-authenticator-operator",
        // The pre-delete hook (uninstallHook.enabled): see "the uninstall hook" below.
        "ConfigMap/email-authenticator-operator-uninstall",
        "Job/email-authenticator-operator-uninstall",
        "Role/email-authenticator-operator-uninstall",
        "RoleBinding/email-authenticator-operator-uninstall",
        "ServiceAccount/email-authenticator-operator-uninstall",
      ].sort(),
    );
    for (const o of objects.filter((o) => !o.kind.startsWith("Cluster") && o.kind !== "CustomResourceDefinition")) {
      expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe(NS);
    }
  });

  it("runs two replicas of the image at the chart's appVersion with a leader election", () => {
    const deployment = deploymentOf(objects);
    expect(deployment.spec.replicas).toBe(2);
    expect((containerOf(objects) as unknown as { image: string }).image).toBe("email-authenticator-operator:0.1.0");
    expect(
      one<RenderedObject & { spec: { minAvailable: number } }>(objects, "PodDisruptionBudget").spec.minAvailable,
    ).toBe(1);
  });

  it("passes flags the operator accepts, with the operator's own defaults, and POD_NAMESPACE from the downward API", () => {
    const config = operatorConfig(objects, "somewhere");
    const defaults = parseConfig(
      [],
      { POD_NAMESPACE: "somewhere" },
      { hostname: () => "pod", randomSuffix: () => "x" },
    );
    expect(config).toEqual(defaults);
    expect(config.operatorNamespace).toBe("somewhere");
    expect(config.namespaces).toEqual([]);
    expect(config.leaderElection.enabled).toBe(true);
  });

  it("probes /startz, /healthz and /readyz on the health port and exposes the API and metrics ports", () => {
    const c = containerOf(objects);
    expect(c.ports).toEqual([
      { name: "http", containerPort: 8080, protocol: "TCP" },
      { name: "health", containerPort: 8081, protocol: "TCP" },
    ]);
    expect(c.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "health" });
    // A starting process holds these two (a second under the probe's timeout) instead of failing.
    expect(c.startupProbe?.httpGet).toEqual({ path: "/startz?wait=9", port: "health" });
    expect(c.startupProbe?.timeoutSeconds).toBe(10);
    expect(c.readinessProbe?.httpGet).toEqual({ path: "/readyz?wait=4", port: "health" });
    expect(c.readinessProbe?.timeoutSeconds).toBe(5);
    const service = one<RenderedObject & { spec: { ports: unknown[] } }>(objects, "Service");
    expect(service.spec.ports).toEqual([
      { name: "http", port: 8080, targetPort: "http", protocol: "TCP" },
      { name: "metrics", port: 8081, targetPort: "health", protocol: "TCP" },
    ]);
  });

  it("meets the restricted Pod Security Standard, with a read-only root filesystem and resource limits", () => {
    const pod = deploymentOf(objects).spec.template.spec;
    expect(restrictedViolations(pod)).toEqual([]);
    const c = containerOf(objects);
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(Object.keys(c.resources?.requests ?? {}).sort()).toEqual(["cpu", "memory"]);
    expect(Object.keys(c.resources?.limits ?? {})).toContain("memory");
    expect(c.volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
  });

  it("binds the namespace role cluster-wide, since it watches every namespace", () => {
    const binding = one<Binding>(objects, "ClusterRoleBinding", "email-authenticator-operator-namespace");
    expect(binding.roleRef).toMatchObject({ kind: "ClusterRole", name: "email-authenticator-operator-namespace" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "email-authenticator-operator", namespace: NS }]);
    expect(find(objects, "RoleBinding", "email-authenticator-operator-namespace")).toEqual([]);
  });

  it("ships the CRDs of src/kinds, kept on uninstall", () => {
    for (const kind of allKinds) {
      const expected = customResourceDefinition(kind) as { metadata: { name: string }; spec: unknown };
      const crd = one<RenderedObject & { spec: unknown }>(objects, "CustomResourceDefinition", expected.metadata.name);
      expect(crd.metadata.annotations).toEqual({ "helm.sh/resource-policy": "keep" });
      expect(crd.spec).toEqual(expected.spec);
    }
  });
});

describe("helm template with watchNamespaces [team-a, team-b]", () => {
  const { objects } = render({ values: { watchNamespaces: ["team-a", "team-b"] } });

  it("binds the namespace role in each watched namespace and its own, and nowhere cluster-wide", () => {
    const bindings = find(objects, "RoleBinding", "email-authenticator-operator-namespace") as Binding[];
    expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual([NS, "team-a", "team-b"]);
    for (const b of bindings) {
      expect(b.roleRef).toEqual({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "email-authenticator-operator-namespace",
      });
      expect(b.subjects).toEqual([{ kind: "ServiceAccount", name: "email-authenticator-operator", namespace: NS }]);
    }
    expect(find(objects, "ClusterRoleBinding", "email-authenticator-operator-namespace")).toEqual([]);
    // Only the binding of the token and access reviews stays cluster-wide.
    expect(find(objects, "ClusterRoleBinding").map((b) => b.metadata.name)).toEqual(["email-authenticator-operator"]);
  });

  it("tells the operator to watch exactly those namespaces", () => {
    expect(containerOf(objects).args).toContain("--namespaces=team-a,team-b");
    expect(operatorConfig(objects).namespaces).toEqual(["team-a", "team-b"]);
  });

  it("binds its own namespace once when it is also watched", () => {
    const { objects } = render({ values: { watchNamespaces: [NS, "team-a"] } });
    const bindings = find(objects, "RoleBinding", "email-authenticator-operator-namespace");
    expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual([NS, "team-a"]);
  });
});

describe("helm template options", () => {
  it("leaves the CRDs out with crds.enabled=false and lets them go on uninstall with crds.keep=false", () => {
    expect(find(render({ values: { crds: { enabled: false } } }).objects, "CustomResourceDefinition")).toEqual([]);
    const crds = find(render({ values: { crds: { keep: false } } }).objects, "CustomResourceDefinition");
    expect(crds).toHaveLength(3);
    for (const crd of crds) expect(crd.metadata.annotations).toBeUndefined();
  });

  it("creates the global settings ConfigMap that the operator's schema accepts, and names the credentials Secret", () => {
    const settings = {
      create: true,
      host: "smtp.example.com",
      port: 587,
      tlsMode: "STARTTLS",
      timeout: 20,
      fromAddress: "auth@example.com",
    };
    const { objects } = render({
      values: { globalSettings: { ...settings, credentials: { existingSecret: "relay-login" } } },
    });
    const cm = one<RenderedObject & { data: Record<string, string> }>(
      objects,
      "ConfigMap",
      "email-authenticator-global-settings",
    );
    expect(cm.metadata.namespace).toBe(NS);
    expect(globalSettingsData.parse(cm.data)).toEqual({
      host: "smtp.example.com",
      port: 587,
      tlsMode: "STARTTLS",
      timeout: 20,
      fromAddress: "auth@example.com",
    });
    expect(operatorConfig(objects).globalSettings).toEqual({
      namespace: NS,
      configMapName: "email-authenticator-global-settings",
      credentialsSecretName: "relay-login",
    });
    expect(find(objects, "Secret")).toEqual([]);
  });

  it("keeps values.yaml's global settings defaults equal to the operator's", () => {
    const values = load(readFileSync(join(chartDir, "values.yaml"), "utf8")) as {
      globalSettings: Record<string, unknown>;
    };
    const { host, port, tlsMode, timeout, fromAddress } = values.globalSettings;
    expect({ host, port, tlsMode, timeout, fromAddress }).toEqual(globalSettingsData.parse({}));
  });

  it("pins the image by digest when one is given", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const { objects } = render({ values: { image: { repository: "registry.example/eao", digest } } });
    expect((containerOf(objects) as unknown as { image: string }).image).toBe(`registry.example/eao@${digest}`);
  });

  it("runs one replica without a PDB (it would block drains) and can switch leader election off", () => {
    const { objects } = render({ values: { replicaCount: 1, leaderElection: { enabled: false } } });
    expect(find(objects, "PodDisruptionBudget")).toEqual([]);
    expect(operatorConfig(objects).leaderElection.enabled).toBe(false);
  });

  it("uses an existing ServiceAccount by name, and requires the name", () => {
    const { objects } = render({
      values: { serviceAccount: { create: false, name: "platform-eao" }, uninstallHook: { enabled: false } },
    });
    expect(find(objects, "ServiceAccount")).toEqual([]);
    expect(deploymentOf(objects).spec.template.spec.serviceAccountName).toBe("platform-eao");
    for (const b of [...find(objects, "ClusterRoleBinding"), ...find(objects, "RoleBinding")] as Binding[]) {
      expect(b.subjects).toEqual([{ kind: "ServiceAccount", name: "platform-eao", namespace: NS }]);
    }
    expect(refusal({ serviceAccount: { create: false } })).toContain(
      "serviceAccount.name is required when serviceAccount.create is false",
    );
  });

  it("prefixes names with the release name unless it contains the chart name", () => {
    const { objects } = render({ release: "prod", namespace: "auth" });
    expect(deploymentOf(objects).metadata.name).toBe("prod-email-authenticator-operator");
    expect(containerOf(objects).args).toContain("--leader-elect-resource-name=prod-email-authenticator-operator");
    expect(
      find(objects, "ClusterRole")
        .map((r) => r.metadata.name)
        .sort(),
    ).toEqual(["prod-email-authenticator-operator", "prod-email-authenticator-operator-namespace"]);
  });

  it("sizes the sweeper's rounds, for a cluster whose sign-ins outpace the default batch", () => {
    const { objects } = render({ values: { sweeper: { batchSize: 1000, interval: "30s" } } });
    expect(operatorConfig(objects).sweeper).toEqual({ batchSize: 1000, intervalMs: 30_000 });
  });

  it("passes extra flags and environment through", () => {
    const { objects } = render({
      values: {
        extraArgs: ["--leader-elect-identity=fixed"],
        extraEnv: [{ name: "TZ", value: "UTC" }],
        logLevel: "debug",
      },
    });
    const config = operatorConfig(objects);
    expect(config.leaderElection.identity).toBe("fixed");
    expect(config.logLevel).toBe("debug");
    expect(containerOf(objects).env).toContainEqual({ name: "TZ", value: "UTC" });
  });

  it("limits traffic to the API server, DNS and SMTP with networkPolicy.enabled", () => {
    const { objects } = render({
      values: { networkPolicy: { enabled: true, egress: { smtp: { cidrs: ["192.0.2.10/32"], ports: [587] } } } },
    });
    const policy = one<
      RenderedObject & {
        spec: {
          policyTypes: string[];
          ingress: unknown[];
          egress: { ports: { port: number; protocol: string }[]; to?: unknown[] }[];
        };
      }
    >(objects, "NetworkPolicy");
    expect(policy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(policy.spec.ingress).toEqual([
      { ports: [{ port: "http", protocol: "TCP" }] },
      { ports: [{ port: "health", protocol: "TCP" }] },
    ]);
    const [api, dns, smtp, ...rest] = policy.spec.egress;
    expect(rest).toEqual([]);
    expect(api?.ports.map((p) => p.port)).toEqual([443, 6443]);
    expect(dns?.ports).toEqual([
      { port: 53, protocol: "UDP" },
      { port: 53, protocol: "TCP" },
    ]);
    expect(dns?.to).toEqual([
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
      },
    ]);
    expect(smtp).toEqual({ ports: [{ port: 587, protocol: "TCP" }], to: [{ ipBlock: { cidr: "192.0.2.10/32" } }] });
  });

  it("scrapes the metrics port with metrics.serviceMonitor.enabled", () => {
    const { objects } = render({
      values: { metrics: { serviceMonitor: { enabled: true, labels: { release: "prom" } } } },
    });
    const monitor = one<RenderedObject & { spec: { endpoints: unknown[] } }>(objects, "ServiceMonitor");
    expect(monitor.metadata.labels?.release).toBe("prom");
    expect(monitor.spec.endpoints).toEqual([
      { port: "metrics", path: "/metrics", interval: "30s", scrapeTimeout: "10s" },
    ]);
  });
});

describe("values.schema.json refuses bad values with a clear message", () => {
  it.each<[string, Record<string, unknown>, string]>([
    ["a misspelt key", { replicas: 2 }, "at '': additional properties 'replicas' not allowed"],
    ["a misspelt nested key", { crds: { keepp: true } }, "at '/crds': additional properties 'keepp' not allowed"],
    ['replicaCount "two"', { replicaCount: "two" }, "at '/replicaCount': got string, want integer"],
    [
      "a namespace that is not a DNS label",
      { watchNamespaces: ["Team_A"] },
      "at '/watchNamespaces/0': 'Team_A' does not match pattern",
    ],
    ["a namespace listed twice", { watchNamespaces: ["a", "a"] }, "at '/watchNamespaces': items at 0 and 1 are equal"],
    [
      "an unknown TLS mode",
      { globalSettings: { tlsMode: "TLS" } },
      "at '/globalSettings/tlsMode': value must be one of 'None', 'STARTTLS', 'ImplicitTLS'",
    ],
    [
      "a password in the values",
      { globalSettings: { credentials: { password: "hunter2" } } },
      "additional properties 'password' not allowed",
    ],
    [
      "a from address with a display name",
      { globalSettings: { fromAddress: "Auth <a@example.com>" } },
      "at '/globalSettings/fromAddress'",
    ],
    [
      "a duration without a unit",
      { leaderElection: { leaseDuration: "15" } },
      "at '/leaderElection/leaseDuration': '15' does not match pattern",
    ],
    ["a sweeper batch of none", { sweeper: { batchSize: 0 } }, "at '/sweeper/batchSize': minimum: got 0, want 1"],
    ["an unknown log level", { logLevel: "verbose" }, "at '/logLevel': value must be one of 'fatal'"],
    [
      "a port out of range",
      { containerPorts: { http: 70000 } },
      "at '/containerPorts/http': maximum: got 70,000, want 65,535",
    ],
    [
      "a digest that is not sha256",
      { image: { digest: "latest" } },
      "at '/image/digest': 'latest' does not match pattern",
    ],
    [
      "a flag without dashes",
      { extraArgs: ["namespaces=a"] },
      "at '/extraArgs/0': 'namespaces=a' does not match pattern",
    ],
  ])("%s", (_, values, message) => {
    const stderr = refusal(values);
    expect(stderr).toContain("values don't meet the specifications of the schema");
    expect(stderr).toContain(message);
  });

  it("refuses both minAvailable and maxUnavailable", () => {
    expect(refusal({ podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 } })).toContain(
      "set minAvailable or maxUnavailable, not both",
    );
  });

  it("agrees with the operator on addresses, TLS modes and log levels", () => {
    const schema = JSON.parse(readFileSync(join(chartDir, "values.schema.json"), "utf8")) as {
      properties: {
        globalSettings: { properties: Record<string, { pattern?: string; enum?: string[] }> };
        logLevel: { enum: string[] };
      };
    };
    const settings = schema.properties.globalSettings.properties;
    expect(settings.fromAddress?.pattern).toBe(EMAIL_PATTERN);
    expect(settings.tlsMode?.enum).toEqual(globalSettingsData.shape.tlsMode.unwrap().options);
    expect(schema.properties.logLevel.enum).toEqual([...LOG_LEVELS]);
  });
});

describe("the chart's RBAC", () => {
  /** Kind, name, namespace and the grants; Helm's labels and the comments do not matter. */
  const grants = (objects: RenderedObject[]) =>
    objects
      .filter((o) => ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"].includes(o.kind))
      .map(({ apiVersion, kind, metadata: { name, namespace }, ...rest }) => {
        const { rules, roleRef, subjects } = rest as Record<string, unknown>;
        return { apiVersion, kind, name, namespace: namespace ?? "", rules, roleRef, subjects };
      })
      .sort((a, b) => `${a.kind}/${a.namespace}/${a.name}`.localeCompare(`${b.kind}/${b.namespace}/${b.name}`));

  it("is manifests/install/rbac.yaml when the operator watches its own namespace", () => {
    const manifests = loadAll(
      readFileSync(join(repoRoot, "manifests", "install", "rbac.yaml"), "utf8"),
    ) as RenderedObject[];
    // The uninstall hook's own short-lived identity is not the operator's.
    const { objects } = render({ values: { watchNamespaces: [NS], uninstallHook: { enabled: false } } });
    expect(grants(objects)).toEqual(grants(manifests));
  });
});

describe("the uninstall hook", () => {
  const hookObjects = () => render().objects.filter((o) => o.metadata.annotations?.["helm.sh/hook"] === "pre-delete");

  it("runs before Helm deletes anything, in the operator's image, under the restricted profile", () => {
    const objects = hookObjects();
    const job = one<RenderedObject & { spec: { template: { spec: PodSpec } } }>(objects, "Job");
    const container = job.spec.template.spec.containers[0] as Container & { image: string; command: string[] };
    expect(container.image).toBe("email-authenticator-operator:0.1.0");
    expect(container.command).toEqual(["/nodejs/bin/node", "/hook/stop-operator.mjs"]);
    expect(job.spec.template.spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    // Its own identity, created first and removed after success, may touch only this release's Deployment and Lease.
    for (const o of objects) expect(o.metadata.annotations?.["helm.sh/hook-delete-policy"]).toContain("hook-succeeded");
    const role = one<RenderedObject & { rules: { resources: string[]; resourceNames?: string[]; verbs: string[] }[] }>(
      objects,
      "Role",
    );
    expect(role.rules).toEqual([
      {
        apiGroups: ["apps"],
        resources: ["deployments"],
        resourceNames: ["email-authenticator-operator"],
        verbs: ["get", "patch"],
      },
      { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
      {
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        resourceNames: ["email-authenticator-operator"],
        verbs: ["delete"],
      },
    ]);
  });

  it("can be switched off", () => {
    expect(
      render({ values: { uninstallHook: { enabled: false } } }).objects.filter(
        (o) => o.metadata.annotations?.["helm.sh/hook"],
      ),
    ).toEqual([]);
  });
});
