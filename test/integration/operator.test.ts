// The operator process against the real API server, under its least-privilege identity:
// stage readiness follows its Secret and the global ConfigMap without a restart, bindings
// follow their stage, status reads right for kstatus, deletion never waits for the operator.
import { CoreV1Api, EventsV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EXECUTION_SECRET_TYPE,
  expiringSelector,
  EXPIRES_AT_ANNOTATION,
  STAGE_LABEL,
  STAGE_NAMESPACE_LABEL,
  STAGE_UID_LABEL,
  COMPONENT_LABEL,
  EXECUTION_COMPONENT,
} from "../../src/kinds/labels.ts";
import { OPERATOR_NAMESPACE } from "../harness/controlplane.ts";
import { computeKStatus } from "@emailauth/operator-runtime";
import { controlPlane, createTestNamespace, grantOperatorNamespace } from "../harness/context.ts";
import { condition, objects, readyIs, type TestObject } from "../harness/objects.ts";
import { startOperator, type OperatorProcess } from "../harness/operator-process.ts";
import { waitFor } from "../harness/wait.ts";
import { Mailpit } from "../harness/mailpit.ts";
import { freePort } from "../harness/ports.ts";

const plane = controlPlane();
const admin = plane.admin();
const core = admin.makeApiClient(CoreV1Api);
const PASSWORD = "pw-7f3a9c-never-logged";
let ns = "";
let k: ReturnType<typeof objects>;
let operator: OperatorProcess;

const kstatus = (o: TestObject) => computeKStatus(o).status;
const secret = (name: string, data: Record<string, string>) =>
  core.createNamespacedSecret({ namespace: ns, body: { metadata: { name }, stringData: data } });

beforeAll(async () => {
  ns = await createTestNamespace(admin, "operator");
  await grantOperatorNamespace(admin, ns);
  k = objects(admin, ns);
  operator = await startOperator({
    kubeconfig: plane.info.operatorKubeconfig,
    args: [
      `--namespaces=${ns}`,
      `--global-settings-namespace=${ns}`,
      "--global-settings-configmap=global-smtp",
      `--leader-elect-resource-name=op-${ns}`,
    ],
  });
});

afterAll(async () => {
  await operator?.stop();
});

describe("EmailAuthenticatorStage", () => {
  it("becomes Ready with observedGeneration = generation, follows its Secret away and back", async () => {
    await secret("smtp-creds", { username: "mailer", password: PASSWORD });
    await k.create("emailauthenticatorstages", "relay", {
      connection: { host: "smtp.example.com", port: 587, useTLS: true, credentialsSecretRef: { name: "smtp-creds" } },
    });
    const ready = await k.waitFor("emailauthenticatorstages", "relay", readyIs("True"), "Ready");
    // No finalizer with the default deviceDeletionPolicy: deleting never waits for the operator.
    expect(ready.metadata.finalizers ?? []).toEqual([]);
    expect(ready.status).toMatchObject({
      connection: { endpoint: "smtp.example.com:587", tlsMode: "STARTTLS", source: "Stage" },
      deviceCount: 0,
    });
    expect(kstatus(ready)).toBe("Current");

    await core.deleteNamespacedSecret({ namespace: ns, name: "smtp-creds" });
    const broken = await k.waitFor(
      "emailauthenticatorstages",
      "relay",
      readyIs("False", "SecretNotFound"),
      "not Ready after the Secret went",
    );
    expect(condition(broken)?.message).toBe(`the credentials Secret ${ns}/smtp-creds does not exist`);
    expect(condition(broken, "Stalled")?.status).toBe("True");
    expect(kstatus(broken)).toBe("Failed");

    await secret("smtp-creds", { username: "mailer" });
    const noPassword = await k.waitFor(
      "emailauthenticatorstages",
      "relay",
      readyIs("False", "MissingSecretKey"),
      "a missing key named",
    );
    expect(condition(noPassword)?.message).toContain("has no key password");

    await core.replaceNamespacedSecret({
      namespace: ns,
      name: "smtp-creds",
      body: { metadata: { name: "smtp-creds" }, stringData: { username: "mailer", password: PASSWORD } },
    });
    await k.waitFor("emailauthenticatorstages", "relay", readyIs("True"), "Ready again without a restart");
  });

  it("follows the global settings ConfigMap", async () => {
    await k.create("emailauthenticatorstages", "global", { useGlobalSettings: true });
    const missing = await k.waitFor(
      "emailauthenticatorstages",
      "global",
      readyIs("False", "GlobalSettingsNotFound"),
      "waiting for the global settings",
    );
    expect(condition(missing)?.message).toContain(`ConfigMap ${ns}/global-smtp does not exist`);

    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: "global-smtp" }, data: { host: "mail.internal", port: "465", tlsMode: "ImplicitTLS" } },
    });
    const ready = await k.waitFor(
      "emailauthenticatorstages",
      "global",
      readyIs("True"),
      "Ready on the global settings",
    );
    expect(ready.status?.connection).toEqual({
      endpoint: "mail.internal:465",
      tlsMode: "ImplicitTLS",
      source: "Global",
    });

    await core.replaceNamespacedConfigMap({
      namespace: ns,
      name: "global-smtp",
      body: { metadata: { name: "global-smtp" }, data: { host: "mail.internal", port: "smtp" } },
    });
    const bad = await k.waitFor(
      "emailauthenticatorstages",
      "global",
      readyIs("False", "InvalidGlobalSettings"),
      "invalid global settings reported",
    );
    expect(condition(bad)?.message).toMatch(/port: must be a whole number/);

    await core.replaceNamespacedConfigMap({
      namespace: ns,
      name: "global-smtp",
      body: { metadata: { name: "global-smtp" }, data: { host: "mail.internal", port: "2525" } },
    });
    const fixed = await k.waitFor("emailauthenticatorstages", "global", readyIs("True"), "Ready after the fix");
    expect(fixed.status?.connection).toMatchObject({ endpoint: "mail.internal:2525", tlsMode: "None" });
  });

  it("records Events on transitions, without secrets", async () => {
    const api = admin.makeApiClient(EventsV1Api);
    // Events are written after the status they describe, so they may trail it a little.
    const reasons = await waitFor(
      async () => {
        const found = (await api.listNamespacedEvent({ namespace: ns })).items
          .filter((e) => e.regarding?.name === "relay")
          .map((e) => e.reason ?? "");
        return ["Ready", "SecretNotFound", "MissingSecretKey"].every((r) => found.includes(r)) ? found : undefined;
      },
      { what: "Events for the relay stage", timeoutMs: 10_000 },
    );
    expect(reasons).toContain("SecretNotFound");
    expect(JSON.stringify((await api.listNamespacedEvent({ namespace: ns })).items)).not.toContain(PASSWORD);
  });
});

describe("connection check", () => {
  it("reports a reachable relay as verified and a closed port as failed, as its own condition", async () => {
    const mailpit = await Mailpit.start();
    try {
      await k.create("emailauthenticatorstages", "checked", {
        connection: { host: "127.0.0.1", port: mailpit.smtpPort },
        connectionCheck: { enabled: true },
      });
      const ok = await k.waitFor(
        "emailauthenticatorstages",
        "checked",
        (o) => condition(o, "ConnectionVerified")?.status === "True",
        "verified",
      );
      expect(condition(ok, "ConnectionVerified")?.message).toMatch(
        new RegExp(`connected to 127\\.0\\.0\\.1:${mailpit.smtpPort} without TLS`),
      );
      await k.create("emailauthenticatorstages", "unreachable", {
        connection: { host: "127.0.0.1", port: await freePort(), timeout: 2 },
        connectionCheck: { enabled: true },
      });
      const failed = await k.waitFor(
        "emailauthenticatorstages",
        "unreachable",
        (o) => condition(o, "ConnectionVerified")?.status === "False",
        "check failed",
      );
      expect(condition(failed, "ConnectionVerified")?.reason).toBe("ConnectionFailed");
      // An unreachable relay is not a configuration error: still Ready, and Current for kstatus.
      expect(condition(failed)?.status).toBe("True");
      expect(kstatus(failed)).toBe("Current");
    } finally {
      await mailpit.stop();
    }
  });
});

describe("FlowBinding", () => {
  it("is not Ready while its stage is missing, and Ready once it appears", async () => {
    await k.create("flowbindings", "login-email", {
      flow: "login",
      stageRef: { name: "later" },
      order: 1,
      intent: "Authenticate",
    });
    const waiting = await k.waitFor(
      "flowbindings",
      "login-email",
      readyIs("Unknown", "StageNotFound"),
      "waiting for the stage",
    );
    expect(condition(waiting)?.message).toBe(`EmailAuthenticatorStage ${ns}/later does not exist yet`);
    expect(kstatus(waiting)).toBe("InProgress");

    await k.create("emailauthenticatorstages", "later", {});
    const ready = await k.waitFor("flowbindings", "login-email", readyIs("True"), "Ready with its stage");
    expect(kstatus(ready)).toBe("Current");
    const stage = await k.waitFor(
      "emailauthenticatorstages",
      "later",
      (o) => (o?.status?.flows as string[] | undefined)?.includes("login") ?? false,
      "the stage lists its flow",
    );
    expect(stage.status?.flows).toEqual(["login"]);
  });

  it("stalls on a second binding at the same order", async () => {
    await k.create("flowbindings", "login-dup", { flow: "login", stageRef: { name: "relay" }, order: 1 });
    const dup = await k.waitFor(
      "flowbindings",
      "login-dup",
      readyIs("False", "DuplicateOrder"),
      "duplicate order reported",
    );
    expect(condition(dup)?.message).toBe(
      "FlowBindings login-dup, login-email all bind flow login at order 1; give each its own order",
    );
    await k.waitFor("flowbindings", "login-email", readyIs("False", "DuplicateOrder"), "both sides report it");
    await k.delete("flowbindings", "login-dup");
    await k.waitFor("flowbindings", "login-email", readyIs("True"), "Ready again");
  });
});

describe("deletion", () => {
  it("removes a stage at once, leaves its executions to their expiry, keeps its devices", async () => {
    await k.create("emailauthenticatorstages", "doomed", {});
    const stage = await k.waitFor("emailauthenticatorstages", "doomed", readyIs("True"), "Ready");
    await k.create("emaildevices", "alice-doomed", {
      stageRef: { name: "doomed" },
      user: { id: "alice" },
      email: "alice@example.com",
      confirmed: true,
    });
    await k.waitFor("emaildevices", "alice-doomed", readyIs("True", "Confirmed"), "device Ready");
    await k.waitFor("emailauthenticatorstages", "doomed", (o) => o?.status?.deviceCount === 1, "device counted");
    const expires = new Date(Date.now() + 600_000).toISOString();
    // An execution record as the operator keeps it: in its own namespace, labelled with the stage.
    const record = `exec-${ns}`;
    const labels = {
      [COMPONENT_LABEL]: EXECUTION_COMPONENT,
      [STAGE_NAMESPACE_LABEL]: ns,
      [STAGE_LABEL]: "doomed",
      [STAGE_UID_LABEL]: stage.metadata.uid,
    };
    await core.createNamespacedSecret({
      namespace: OPERATOR_NAMESPACE,
      body: {
        metadata: { name: record, labels, annotations: { [EXPIRES_AT_ANNOTATION]: expires } },
        type: EXECUTION_SECRET_TYPE,
        data: {},
      },
    });

    await k.delete("emailauthenticatorstages", "doomed");
    expect(await k.get("emailauthenticatorstages", "doomed")).toBeUndefined();
    // The sweeper removes executions on expiry (a later stage of that name has another uid, so
    // they are not continued against it). The operator holds nothing back.
    const left = await core.listNamespacedSecret({
      namespace: OPERATOR_NAMESPACE,
      labelSelector: `${expiringSelector()},${STAGE_NAMESPACE_LABEL}=${ns}`,
    });
    expect(left.items.map((s) => s.metadata?.name)).toContain(record);
    await core.deleteNamespacedSecret({ namespace: OPERATOR_NAMESPACE, name: record });
    const device = await k.waitFor(
      "emaildevices",
      "alice-doomed",
      readyIs("False", "StageNotFound"),
      "device shows the stage is gone",
      40_000,
    );
    expect(condition(device)?.message).toContain("the device is kept");
    expect(kstatus(device)).toBe("Failed");
  });
});

describe("logs", () => {
  it("never contain the SMTP password", () => {
    const logs = operator.logs();
    expect(logs).toContain("caches synced");
    expect(logs).not.toContain(PASSWORD);
  });
});
