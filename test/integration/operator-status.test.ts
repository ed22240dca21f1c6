// What GitOps tools read, on the real API server with the operator running: every state that
// only a user can end is Stalled (kstatus Failed) with a reason, everything else settles to
// Current; checked with our kstatus re-implementation and with sigs.k8s.io/cli-utils itself
// (tools/bin/kstatus, the library Flux uses). Also the stage's finalizer policy and the
// informational ConfigureFlowReady condition.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { computeKStatus } from "@emailauth/operator-runtime";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEVICES_FINALIZER, LEGACY_EXECUTIONS_FINALIZER } from "../../src/kinds/labels.ts";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import { controlPlane, createTestNamespace, grantOperatorNamespace } from "../harness/context.ts";
import { condition, objects, readyIs, type TestObject } from "../harness/objects.ts";
import { startOperator, type OperatorProcess } from "../harness/operator-process.ts";
import { toolsBin } from "../harness/paths.ts";

const plane = controlPlane();
const admin = plane.admin();
const core = admin.makeApiClient(CoreV1Api);
const custom = admin.makeApiClient(CustomObjectsApi);
let ns = "";
let k: ReturnType<typeof objects>;
let operator: OperatorProcess;

/** kstatus twice: the library Flux runs, and the re-implementation the unit tests use. */
function kstatus(o: TestObject): string {
  const out = execFileSync(join(toolsBin, "kstatus"), { input: JSON.stringify(o), encoding: "utf8" });
  const real = (JSON.parse(out.trim()) as { status: string }).status;
  expect(computeKStatus(o).status).toBe(real);
  return real;
}

beforeAll(async () => {
  ns = await createTestNamespace(admin, "status");
  await grantOperatorNamespace(admin, ns);
  k = objects(admin, ns);
  operator = await startOperator({
    kubeconfig: plane.info.operatorKubeconfig,
    args: [`--namespaces=${ns}`, `--leader-elect-resource-name=status-${ns}`],
  });
});

afterAll(async () => {
  await operator?.stop();
});

describe("FlowBinding", () => {
  it("waits briefly for a missing stage, then is Stalled; Ready once the stage appears", async () => {
    await k.create("flowbindings", "orphan", { flow: "login", stageRef: { name: "late" }, order: 1 });
    const waiting = await k.waitFor("flowbindings", "orphan", readyIs("Unknown", "StageNotFound"), "waiting");
    expect(kstatus(waiting)).toBe("InProgress");
    const stalled = await k.waitFor(
      "flowbindings",
      "orphan",
      readyIs("False", "StageNotFound"),
      "Stalled after the grace period",
      30_000,
    );
    expect(condition(stalled, "Stalled")?.status).toBe("True");
    expect(kstatus(stalled)).toBe("Failed");

    await k.create("emailauthenticatorstages", "late", {});
    const ready = await k.waitFor("flowbindings", "orphan", readyIs("True"), "Ready with its stage");
    expect(kstatus(ready)).toBe("Current");
  });

  it("is Stalled while its stage is Stalled, and recovers with it", async () => {
    await k.create("emailauthenticatorstages", "broken", {
      connection: { credentialsSecretRef: { name: "missing" } },
    });
    await k.create("flowbindings", "on-broken", { flow: "other", stageRef: { name: "broken" }, order: 1 });
    const stalled = await k.waitFor("flowbindings", "on-broken", readyIs("False", "StageNotReady"), "Stalled");
    expect(condition(stalled)?.message).toBe(
      `EmailAuthenticatorStage ${ns}/broken is not ready: the credentials Secret ${ns}/missing does not exist`,
    );
    expect(kstatus(stalled)).toBe("Failed");
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: "missing" }, stringData: { username: "u", password: "p" } },
    });
    const ready = await k.waitFor("flowbindings", "on-broken", readyIs("True"), "Ready after the fix");
    expect(kstatus(ready)).toBe("Current");
  });
});

describe("EmailDevice", () => {
  it("reads a declared unconfirmed device as Current (Ready, Pending) with Confirmed=False", async () => {
    await k.create("emailauthenticatorstages", "enrol", {});
    await k.create("emaildevices", "bob-declared", {
      stageRef: { name: "enrol" },
      user: { id: "bob" },
      email: "bob@example.com",
      confirmed: false,
    });
    const pending = await k.waitFor("emaildevices", "bob-declared", readyIs("True", "Pending"), "Pending");
    expect(condition(pending, "Confirmed")).toMatchObject({ status: "False", reason: "Pending" });
    expect(kstatus(pending)).toBe("Current");
  });

  it("stalls both devices of one user and stage (DuplicateDevice) until one goes", async () => {
    const device = (name: string) =>
      k.create("emaildevices", name, {
        stageRef: { name: "enrol" },
        user: { id: "carol" },
        email: `${name}@example.com`,
        confirmed: true,
      });
    await device("carol-a");
    await k.waitFor("emaildevices", "carol-a", readyIs("True", "Confirmed"), "the first is Ready");
    await device("carol-b");
    for (const name of ["carol-a", "carol-b"]) {
      const dup = await k.waitFor("emaildevices", name, readyIs("False", "DuplicateDevice"), "duplicate");
      expect(condition(dup)?.message).toContain("EmailDevices carol-a, carol-b are all for user carol");
      expect(condition(dup)?.message).not.toContain("@example.com");
      expect(kstatus(dup)).toBe("Failed");
    }
    await k.delete("emaildevices", "carol-b");
    await k.waitFor("emaildevices", "carol-a", readyIs("True", "Confirmed"), "Ready again");
  });
});

describe("EmailAuthenticatorStage", () => {
  it("refuses SMTP AUTH without TLS to a remote relay unless allowInsecureAuth; loopback is fine", async () => {
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: "relay-auth" }, stringData: { username: "mailer", password: "pw-not-in-status" } },
    });
    const connection = { host: "smtp.example.com", port: 25, credentialsSecretRef: { name: "relay-auth" } };
    await k.create("emailauthenticatorstages", "cleartext", { connection });
    const refused = await k.waitFor(
      "emailauthenticatorstages",
      "cleartext",
      readyIs("False", "InsecureAuth"),
      "refused",
    );
    expect(condition(refused)?.message).toContain("without TLS, which would send the password in clear text");
    expect(kstatus(refused)).toBe("Failed");

    await k.create("emailauthenticatorstages", "cleartext-allowed", {
      connection: { ...connection, allowInsecureAuth: true },
    });
    await k.create("emailauthenticatorstages", "cleartext-loopback", {
      connection: { ...connection, host: "127.0.0.1" },
    });
    for (const name of ["cleartext-allowed", "cleartext-loopback"]) {
      const ok = await k.waitFor("emailauthenticatorstages", name, readyIs("True"), "Ready");
      expect(kstatus(ok)).toBe("Current");
    }
  });

  it("reports whether its configureFlow exists and sets it up, without touching readiness", async () => {
    await k.create("emailauthenticatorstages", "configured", { configureFlow: "enrol-email" });
    const missing = await k.waitFor(
      "emailauthenticatorstages",
      "configured",
      (o) => readyIs("True")(o) && condition(o, "ConfigureFlowReady")?.reason === "FlowNotFound",
      "FlowNotFound",
    );
    expect(condition(missing, "ConfigureFlowReady")?.status).toBe("False");
    expect(kstatus(missing)).toBe("Current");

    await k.create("flowbindings", "enrol-email-setup", {
      flow: "enrol-email",
      stageRef: { name: "configured" },
      intent: "Setup",
    });
    const found = await k.waitFor(
      "emailauthenticatorstages",
      "configured",
      (o) => condition(o, "ConfigureFlowReady")?.status === "True",
      "SetupBindingFound",
    );
    expect(condition(found, "ConfigureFlowReady")).toMatchObject({
      reason: "SetupBindingFound",
      message: "flow enrol-email sets this authenticator up (FlowBinding enrol-email-setup)",
    });
    expect(kstatus(found)).toBe("Current");
  });
});

describe("deletion", () => {
  it("with deviceDeletionPolicy Delete, deletes the stage's devices (API-created and declared) before it goes", async () => {
    await k.create("emailauthenticatorstages", "tidy", { deviceDeletionPolicy: "Delete" });
    const stage = await k.waitFor("emailauthenticatorstages", "tidy", readyIs("True"), "Ready");
    expect(stage.metadata.finalizers).toEqual([DEVICES_FINALIZER]);
    for (const [name, stageName, user] of [
      ["dana-tidy", "tidy", "dana"],
      ["erin-tidy", "tidy", "erin"],
      ["dana-enrol", "enrol", "dana"],
    ] as const)
      await k.create("emaildevices", name, {
        stageRef: { name: stageName },
        user: { id: user },
        email: `${name}@example.com`,
        confirmed: true,
      });
    await k.waitFor("emailauthenticatorstages", "tidy", (o) => o?.status?.deviceCount === 2, "devices counted");

    await k.delete("emailauthenticatorstages", "tidy");
    await k.waitFor("emailauthenticatorstages", "tidy", (o) => o === undefined, "the stage is gone");
    expect(await k.get("emaildevices", "dana-tidy")).toBeUndefined();
    expect(await k.get("emaildevices", "erin-tidy")).toBeUndefined();
    expect(await k.get("emaildevices", "dana-enrol")).toBeDefined();
  });

  it("drops the finalizer when the policy goes back to Retain, and the old executions finalizer on sight", async () => {
    await k.create("emailauthenticatorstages", "switch", { deviceDeletionPolicy: "Delete" });
    await k.waitFor("emailauthenticatorstages", "switch", (o) => !!o?.metadata.finalizers?.length, "finalizer");
    await custom.patchNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: "emailauthenticatorstages",
      namespace: ns,
      name: "switch",
      body: [{ op: "replace", path: "/spec/deviceDeletionPolicy", value: "Retain" }],
    });
    await k.waitFor("emailauthenticatorstages", "switch", (o) => !o?.metadata.finalizers?.length, "finalizer gone");

    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: "emailauthenticatorstages",
      namespace: ns,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "EmailAuthenticatorStage",
        metadata: { name: "legacy", finalizers: [LEGACY_EXECUTIONS_FINALIZER] },
        spec: {},
      },
    });
    await k.waitFor(
      "emailauthenticatorstages",
      "legacy",
      (o) => readyIs("True")(o) && !o?.metadata.finalizers?.length,
      "the old finalizer removed",
    );
  });
});
