// The rendered chart against the real API server: every object it renders is accepted with
// strict field validation (so a misplaced key fails instead of being pruned), the Pod of its
// Deployment passes the "restricted" Pod Security admission, and its RBAC grants exactly what
// the operator needs in the watched namespaces and its own, and nothing outside them.
// The shared control plane already has the CRDs and manifests/install: the release gets its own
// name and namespaces, the CRDs and the workload objects are applied with a server-side dry run,
// and no pod ever runs (there is no kube-controller-manager).
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { AuthorizationV1Api, CoreV1Api } from "@kubernetes/client-node";
import { dump } from "js-yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP } from "../../src/kinds/v1alpha1/common.ts";
import { controlPlane, createTestNamespace } from "../harness/context.ts";
import { chartDir, helm, render, type RenderedObject } from "../harness/helm.ts";
import { tool } from "../harness/paths.ts";

const plane = controlPlane();
const admin = plane.admin();

function kubectl(args: string[], objects: RenderedObject[]): { status: number | null; stdout: string; stderr: string } {
  const input = objects.map((o) => dump(o, { noRefs: true })).join("---\n");
  const result = spawnSync(tool("kubectl"), ["--kubeconfig", plane.info.adminKubeconfig, ...args, "-f", "-"], {
    input,
    encoding: "utf8",
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** kubectl validates strictly by default (--validate=strict): unknown or duplicate fields are errors. */
function apply(objects: RenderedObject[], dryRun: boolean): string {
  const args = ["apply", "--server-side", "--force-conflicts", "--field-manager=chart-test", "--validate=strict"];
  const result = kubectl(dryRun ? [...args, "--dry-run=server"] : args, objects);
  expect(result.stderr, result.stdout).toBe("");
  expect(result.status).toBe(0);
  return result.stdout;
}

const suffix = randomBytes(3).toString("hex");
const release = `chart-${suffix}`;
const fullname = `${release}-email-authenticator-operator`;
let releaseNs = "";
let watched: string[] = [];
let unwatched = "";
let objects: RenderedObject[] = [];
let hooks: RenderedObject[] = [];
const byKind = (...kinds: string[]) => objects.filter((o) => kinds.includes(o.kind));

beforeAll(async () => {
  releaseNs = await createTestNamespace(admin, "chart-release");
  watched = [await createTestNamespace(admin, "chart-a"), await createTestNamespace(admin, "chart-b")];
  unwatched = await createTestNamespace(admin, "chart-other");
  // As manifests/install/namespace.yaml labels the operator's namespace.
  await admin.makeApiClient(CoreV1Api).patchNamespace({
    name: releaseNs,
    // A JSON patch (the client's default); the API server always sets kubernetes.io/metadata.name.
    body: [{ op: "add", path: "/metadata/labels/pod-security.kubernetes.io~1enforce", value: "restricted" }],
  });
  const all = render({
    release,
    namespace: releaseNs,
    values: {
      watchNamespaces: watched,
      globalSettings: { create: true, host: "smtp.example.com", port: 465, tlsMode: "ImplicitTLS" },
      networkPolicy: { enabled: true },
    },
  }).objects;
  // Helm creates hook objects only when their hook runs (the pre-delete Job on uninstall; the
  // e2e tests run it on a real node), so the install checks below leave them out.
  const isHook = (o: RenderedObject) => o.metadata.annotations?.["helm.sh/hook"] !== undefined;
  objects = all.filter((o) => !isHook(o));
  hooks = all.filter(isHook);
});

afterAll(() => {
  // Namespaced objects stay with their namespaces; cluster-scoped ones would outlive the test.
  const cluster = byKind("ClusterRole", "ClusterRoleBinding");
  if (cluster.length > 0) kubectl(["delete", "--ignore-not-found"], cluster);
});

describe("the rendered chart on a real API server", () => {
  it("renders every kind this test handles", () => {
    expect([...new Set(objects.map((o) => o.kind))].sort()).toEqual(
      [
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "CustomResourceDefinition",
        "Deployment",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Role",
        "RoleBinding",
        "Service",
        "ServiceAccount",
      ].sort(),
    );
  });

  it("renders only the pre-delete uninstall Job and what it runs as as hooks", () => {
    expect(hooks.map((o) => `${o.kind} ${o.metadata.annotations?.["helm.sh/hook"]}`).sort()).toEqual(
      ["ConfigMap", "Job", "Role", "RoleBinding", "ServiceAccount"].map((k) => `${k} pre-delete`),
    );
  });

  it("has its CRDs accepted as an update of the installed ones (server-side dry run)", () => {
    const out = apply(byKind("CustomResourceDefinition"), true);
    expect(out.match(/serverside-applied \(server dry run\)/g)).toHaveLength(3);
  });

  it("creates the ServiceAccount, RBAC and global settings ConfigMap", () => {
    const out = apply(
      byKind("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "ConfigMap"),
      false,
    );
    // SA, 2 ClusterRoles, 1 ClusterRoleBinding, leader and secrets Roles and RoleBindings, 3 namespace
    // RoleBindings, ConfigMap
    expect(out.trim().split("\n")).toHaveLength(12);
  });

  it("has its Deployment, Service, PodDisruptionBudget and NetworkPolicy accepted (server-side dry run)", () => {
    const out = apply(byKind("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy"), true);
    expect(out.trim().split("\n")).toHaveLength(4);
  });

  it("would have refused a misplaced key instead of pruning it", () => {
    const [deployment] = byKind("Deployment") as (RenderedObject & { spec: Record<string, unknown> })[];
    if (!deployment) throw new Error("no Deployment");
    const typo = { ...deployment, spec: { ...deployment.spec, replica: 2 } };
    const result = kubectl(["apply", "--server-side", "--dry-run=server", "--field-manager=chart-test"], [typo]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(".spec.replica: field not declared in schema");
  });

  it("runs a Pod that the restricted Pod Security admission admits, and that admission is on", () => {
    const deployment = byKind("Deployment")[0] as RenderedObject & {
      spec: { template: { metadata: unknown; spec: Record<string, unknown> } };
    };
    const pod = (spec: Record<string, unknown>): RenderedObject => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: `${fullname}-probe`, namespace: releaseNs },
      spec,
    });
    const admitted = kubectl(["create", "--dry-run=server", "--validate=strict"], [pod(deployment.spec.template.spec)]);
    expect(admitted.stderr).toBe("");
    expect(admitted.stdout).toContain("created (server dry run)");

    // The same pod without its security contexts is refused: the check above is a real one.
    const withoutSecurityContext = ({ securityContext: _, ...rest }: Record<string, unknown>) => rest;
    const bare = withoutSecurityContext(deployment.spec.template.spec);
    const containers = (deployment.spec.template.spec.containers as Record<string, unknown>[]).map(
      withoutSecurityContext,
    );
    const refused = kubectl(["create", "--dry-run=server"], [pod({ ...bare, containers })]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain('violates PodSecurity "restricted:latest"');
  });

  it("installs through Helm's own install path (server-side dry run), NOTES included", () => {
    const result = helm([
      "install",
      `${release}-helm`,
      chartDir,
      "--namespace",
      releaseNs,
      "--kubeconfig",
      plane.info.adminKubeconfig,
      "--dry-run=server",
      // The shared control plane's CRDs belong to no release; Helm would refuse to adopt them.
      "--set",
      "crds.enabled=false",
      "--set-json",
      `watchNamespaces=${JSON.stringify(watched)}`,
    ]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("STATUS: pending-install");
    expect(result.stdout).toContain(`Watched namespaces: ${watched.join(", ")}.`);
    expect(result.stdout).toContain("CRDs: not managed by this release");
  });

  describe("grants the operator's ServiceAccount", () => {
    const can = async (verb: string, resource: string, namespace?: string, group = "") => {
      const review = await admin.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
        body: {
          spec: {
            user: `system:serviceaccount:${releaseNs}:${fullname}`,
            resourceAttributes: { verb, group, resource, ...(namespace ? { namespace } : {}) },
          },
        },
      });
      return review.status?.allowed === true;
    };

    it("reads Secrets and ConfigMaps in the watched namespaces and its own, writes Secrets only in its own", async () => {
      for (const ns of [...watched, releaseNs]) {
        expect(await can("watch", "secrets", ns), ns).toBe(true);
        expect(await can("create", "secrets", ns), ns).toBe(ns === releaseNs);
        expect(await can("delete", "secrets", ns), ns).toBe(ns === releaseNs);
        expect(await can("patch", "secrets", ns), ns).toBe(false);
        expect(await can("list", "configmaps", ns), ns).toBe(true);
        expect(await can("update", "configmaps", ns), ns).toBe(false);
      }
      expect(await can("list", "secrets", unwatched)).toBe(false);
      expect(await can("get", "configmaps", unwatched)).toBe(false);
      expect(await can("list", "secrets")).toBe(false);
    });

    it("Leases in its own namespace only", async () => {
      expect(await can("update", "leases", releaseNs, "coordination.k8s.io")).toBe(true);
      expect(await can("update", "leases", watched[0], "coordination.k8s.io")).toBe(false);
    });

    it("its kinds and their status in the watched namespaces only, the reviews cluster-wide, no writes to stages", async () => {
      expect(await can("watch", "emailauthenticatorstages", watched[0], GROUP)).toBe(true);
      expect(await can("watch", "emailauthenticatorstages", undefined, GROUP)).toBe(false);
      expect(await can("patch", "flowbindings/status", watched[0], GROUP)).toBe(true);
      expect(await can("patch", "flowbindings/status", unwatched, GROUP)).toBe(false);
      expect(await can("create", "emaildevices", watched[1], GROUP)).toBe(true);
      expect(await can("create", "emaildevices", unwatched, GROUP)).toBe(false);
      expect(await can("create", "events", unwatched, "events.k8s.io")).toBe(false);
      expect(await can("create", "emailauthenticatorstages", watched[0], GROUP)).toBe(false);
      expect(await can("update", "emailauthenticatorstages", watched[0], GROUP)).toBe(false);
      expect(await can("create", "tokenreviews", undefined, "authentication.k8s.io")).toBe(true);
      expect(await can("create", "subjectaccessreviews", undefined, "authorization.k8s.io")).toBe(true);
      expect(await can("delete", "customresourcedefinitions", undefined, "apiextensions.k8s.io")).toBe(false);
    });
  });
});
