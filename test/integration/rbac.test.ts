// The operator's identity is a real ServiceAccount bound only by the shipped RBAC: what it
// is granted works, anything else is refused by the API server with 403. Cluster-wide it may only
// review tokens and access; in a watched namespace it reads Secrets but writes none; the Secrets
// it writes are in its own namespace.
import {
  ApiextensionsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
} from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import { controlPlane, createTestNamespace, grantOperatorNamespace } from "../harness/context.ts";
import { OPERATOR_NAMESPACE } from "../harness/controlplane.ts";

const plane = controlPlane();
const operator = plane.operator();
let ns = "";

async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (e) {
    return (e as { code?: number }).code ?? -1;
  }
}

beforeAll(async () => {
  ns = await createTestNamespace(plane.admin(), "rbac");
});

describe("the operator's least-privilege identity", () => {
  it("authenticates as its ServiceAccount", async () => {
    // A SelfSubjectReview needs no grant and tells who the server thinks we are.
    const review = await operator.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(
      "system:serviceaccount:email-authenticator-system:email-authenticator-operator",
    );
  });

  it("may list its own kinds in a watched namespace, not cluster-wide", async () => {
    const granted = await createTestNamespace(plane.admin(), "rbac-kinds");
    await grantOperatorNamespace(plane.admin(), granted);
    const api = operator.makeApiClient(CustomObjectsApi);
    const list = (namespace: string) =>
      statusOf(api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "flowbindings" }));
    expect(await list(granted)).toBe(200);
    expect(await list(ns)).toBe(403);
    expect(
      await statusOf(
        api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: "emailauthenticatorstages" }),
      ),
    ).toBe(403);
  });

  it("is refused (403) where it has no grant", async () => {
    const core = operator.makeApiClient(CoreV1Api);
    const custom = operator.makeApiClient(CustomObjectsApi);
    expect(await statusOf(core.listSecretForAllNamespaces())).toBe(403);
    expect(await statusOf(core.listConfigMapForAllNamespaces())).toBe(403);
    expect(
      await statusOf(
        core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "x" }, stringData: { a: "b" } } }),
      ),
    ).toBe(403);
    expect(await statusOf(core.createNamespace({ body: { metadata: { name: `${ns}-x` } } }))).toBe(403);
    expect(
      await statusOf(
        operator.makeApiClient(ApiextensionsV1Api).deleteCustomResourceDefinition({ name: `flowbindings.${GROUP}` }),
      ),
    ).toBe(403);
    expect(await statusOf(operator.makeApiClient(RbacAuthorizationV1Api).listClusterRole())).toBe(403);
    // Stages and bindings are the platform team's: the operator writes only their status.
    expect(
      await statusOf(
        custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: ns,
          plural: "emailauthenticatorstages",
          body: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: "EmailAuthenticatorStage",
            metadata: { name: "x" },
            spec: {},
          },
        }),
      ),
    ).toBe(403);
  });

  it("reads Secrets only in namespaces it was granted, writes them only in its own, never cluster-wide", async () => {
    const granted = await createTestNamespace(plane.admin(), "rbac-granted");
    await grantOperatorNamespace(plane.admin(), granted);
    const core = operator.makeApiClient(CoreV1Api);
    const body = (name: string) => ({ metadata: { name }, stringData: { a: "b" } });
    expect(await statusOf(core.listNamespacedSecret({ namespace: granted }))).toBe(200);
    expect(await statusOf(core.listNamespacedSecret({ namespace: ns }))).toBe(403);
    expect(await statusOf(core.listSecretForAllNamespaces())).toBe(403);
    // A watched namespace: read only.
    expect(await statusOf(core.createNamespacedSecret({ namespace: granted, body: body("x") }))).toBe(403);
    await plane
      .admin()
      .makeApiClient(CoreV1Api)
      .createNamespacedSecret({ namespace: granted, body: body("theirs") });
    expect(await statusOf(core.deleteNamespacedSecret({ namespace: granted, name: "theirs" }))).toBe(403);
    // Its own namespace: records, counters and keys; still no patch.
    const mine = `rbac-probe-${ns}`;
    expect(await statusOf(core.createNamespacedSecret({ namespace: OPERATOR_NAMESPACE, body: body(mine) }))).toBe(200);
    expect(
      await statusOf(
        core.patchNamespacedSecret({
          namespace: OPERATOR_NAMESPACE,
          name: mine,
          body: [{ op: "remove", path: "/data/a" }],
        }),
      ),
    ).toBe(403);
    expect(await statusOf(core.deleteNamespacedSecret({ namespace: OPERATOR_NAMESPACE, name: mine }))).toBe(200);
  });

  it("writes EmailDevices only in watched namespaces", async () => {
    const granted = await createTestNamespace(plane.admin(), "rbac-devices");
    await grantOperatorNamespace(plane.admin(), granted);
    const custom = operator.makeApiClient(CustomObjectsApi);
    const create = (namespace: string) =>
      statusOf(
        custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: "emaildevices",
          body: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: "EmailDevice",
            metadata: { name: "probe" },
            spec: { stageRef: { name: "s" }, user: { id: "u" }, email: "u@example.com", confirmed: true },
          },
        }),
      );
    expect(await create(ns)).toBe(403);
    expect(await create(granted)).toBe(200);
  });

  it("gets the same answers from the API server's own access review", async () => {
    const admin = plane.admin().makeApiClient(AuthorizationV1Api);
    const can = async (verb: string, resource: string, group = "") => {
      const review = await admin.createSubjectAccessReview({
        body: {
          spec: {
            user: "system:serviceaccount:email-authenticator-system:email-authenticator-operator",
            groups: [
              "system:serviceaccounts",
              "system:serviceaccounts:email-authenticator-system",
              "system:authenticated",
            ],
            resourceAttributes: { verb, resource, group },
          },
        },
      });
      return review.status?.allowed ?? false;
    };
    expect(await can("create", "tokenreviews", "authentication.k8s.io")).toBe(true);
    expect(await can("watch", "emaildevices", GROUP)).toBe(false);
    expect(await can("list", "secrets")).toBe(false);
    expect(await can("watch", "secrets")).toBe(false);
    expect(await can("delete", "emailauthenticatorstages", GROUP)).toBe(false);
  });

  it("has exactly the expected effective permissions in each kind of namespace", async () => {
    const api = operator.makeApiClient(AuthorizationV1Api);
    /** "group/resource verb" for every grant the API server reports, minus what every user has. */
    const rules = async (namespace: string) => {
      const review = await api.createSelfSubjectRulesReview({ body: { spec: { namespace } } });
      const granted = new Set<string>();
      for (const r of review.status?.resourceRules ?? [])
        for (const g of r.apiGroups ?? [])
          for (const res of r.resources ?? [])
            for (const v of r.verbs)
              granted.add(
                `${g || "core"}/${res}${r.resourceNames?.length ? `[${r.resourceNames.join(",")}]` : ""} ${v}`,
              );
      return [...granted].filter((x) => !EVERYONE.some((e) => x.startsWith(e))).sort();
    };
    const granted = await createTestNamespace(plane.admin(), "rbac-rules");
    await grantOperatorNamespace(plane.admin(), granted);
    const expand = (spec: Record<string, string[]>) =>
      Object.entries(spec)
        .flatMap(([resource, verbs]) => verbs.map((v) => `${resource} ${v}`))
        .sort();
    const clusterWide = {
      "authentication.k8s.io/tokenreviews": ["create"],
      "authorization.k8s.io/subjectaccessreviews": ["create"],
    };
    const watched = {
      "emailauth.dev/emailauthenticatorstages": ["list", "watch", "patch"],
      "emailauth.dev/flowbindings": ["list", "watch"],
      "emailauth.dev/emaildevices": ["get", "list", "watch", "create", "patch", "delete"],
      "emailauth.dev/emailauthenticatorstages/status": ["patch"],
      "emailauth.dev/flowbindings/status": ["patch"],
      "emailauth.dev/emaildevices/status": ["patch"],
      "events.k8s.io/events": ["create", "patch"],
      "core/secrets": ["list", "watch"],
      "core/configmaps": ["get", "list", "watch"],
    };
    expect(await rules(ns)).toEqual(expand(clusterWide));
    expect(await rules(granted)).toEqual(expand({ ...clusterWide, ...watched }));
    expect(await rules(OPERATOR_NAMESPACE)).toEqual(
      expand({
        ...clusterWide,
        ...watched,
        "core/secrets": ["get", "list", "watch", "create", "update", "delete"],
        "coordination.k8s.io/leases": ["get", "create", "update"],
      }),
    );
  });
});

/** What RBAC's default roles give every authenticated user (self reviews, discovery). */
const EVERYONE = [
  "authorization.k8s.io/selfsubjectaccessreviews ",
  "authorization.k8s.io/selfsubjectrulesreviews ",
  "authentication.k8s.io/selfsubjectreviews ",
];
