// The stage reconciler against in-memory caches, fake reference watches, a fake clock and a fake
// connection check: every condition a stage can report (Ready: each Stalled reason class and
// InvalidSpec; ConnectionVerified; ConfigureFlowReady), its Events, its finalizers and deletion.
import { computeKStatus, type EventTarget, FakeClock } from "@emailauth/operator-runtime";
import { pino } from "pino";
import { beforeEach, describe, expect, it } from "vitest";
import { EMAIL_DEVICES, FLOW_BINDINGS, STAGES } from "../../k8s/custom-objects.ts";
import { DEVICES_FINALIZER, LEGACY_EXECUTIONS_FINALIZER } from "../../kinds/labels.ts";
import {
  decodeEmailDevice,
  decodeFlowBinding,
  decodeStage,
  type EmailDeviceObject,
  type FlowBindingObject,
  type StageObject,
} from "../../kinds/v1alpha1/objects.ts";
import type { SmtpSettings } from "../../email/settings.ts";
import type { CheckResult } from "../../email/transport.ts";
import { FakeObjects, FakeWrites } from "../testing/fake-objects.ts";
import { FakeReferences } from "../testing/fake-references.ts";
import { scanRelations } from "../testing/scan-relations.ts";
import { ConnectionChecks } from "./connection-checks.ts";
import { DEVICE_COUNT_INTERVAL_MS } from "./policy.ts";
import { StageReconciler } from "./reconciler.ts";

const ns = "app";
const PASSWORD = "pw-never-in-status";
const global = { namespace: "ops", configMap: "smtp", secret: "smtp-auth" };
const ctx = { signal: new AbortController().signal, log: pino({ level: "silent" }) };

let clock: FakeClock;
let stages: FakeObjects<StageObject>;
let bindings: FakeObjects<FlowBindingObject>;
let devices: FakeObjects<EmailDeviceObject>;
let writes: FakeWrites;
let refs: FakeReferences;
let events: { target: EventTarget; type: string; reason: string; message: string }[];
let checked: SmtpSettings[];
let checkResult: CheckResult;
let deletedDevices: string[];
let reconciler: StageReconciler;

beforeEach(() => {
  clock = new FakeClock(new Date("2026-01-01T00:00:00Z"));
  const versions = { next: 1 };
  stages = new FakeObjects(decodeStage, versions);
  bindings = new FakeObjects(decodeFlowBinding, versions);
  devices = new FakeObjects(decodeEmailDevice, versions);
  writes = new FakeWrites({
    [STAGES.plural]: stages,
    [FLOW_BINDINGS.plural]: bindings,
    [EMAIL_DEVICES.plural]: devices,
  });
  refs = new FakeReferences();
  events = [];
  checked = [];
  checkResult = { ok: true, reason: "Verified", message: "connected" };
  deletedDevices = [];
  reconciler = new StageReconciler({
    stages,
    relations: scanRelations(bindings, devices),
    refs: refs.tracker,
    writes,
    deleteDevices: (namespace, stage) => {
      const mine = devices.list(namespace).filter((d) => d.spec.stageRef.name === stage);
      for (const d of mine) devices.delete(namespace, d.metadata?.name ?? "");
      deletedDevices.push(...mine.map((d) => d.metadata?.name ?? ""));
      return Promise.resolve(mine.length);
    },
    events: {
      record: (target, type, reason, message) => {
        events.push({ target, type, reason, message });
        return Promise.resolve();
      },
    },
    checks: new ConnectionChecks((s) => {
      checked.push(s);
      return Promise.resolve(checkResult);
    }, clock),
    clock,
    global,
  });
});

const stage = (spec: Record<string, unknown>, name = "email", extra: Record<string, unknown> = {}) =>
  stages.apply({ metadata: { namespace: ns, name, ...extra }, spec });
const reconcile = (name = "email") => reconciler.reconcile({ namespace: ns, name }, ctx);
/** Reconciles until nothing is written any more (finalizer passes come back through the informer). */
async function settle(name = "email") {
  for (let i = 0; i < 5; i++) {
    const before = writes.log.length;
    const result = await reconcile(name);
    if (writes.log.length === before) return result;
  }
  throw new Error("the reconciler kept writing");
}
const stored = (name = "email") => stages.raw(ns, name);
const cond = (type = "Ready", name = "email") => stored(name)?.status?.conditions?.find((c) => c.type === type);
const countOf = () => (stored()?.status as { deviceCount?: number } | undefined)?.deviceCount;
const kstatus = (name = "email") => computeKStatus(stored(name) ?? {}).status;
const creds = (data: Record<string, string> | undefined) => refs.set("Secret", ns, "creds", data);
const relay = (extra: Record<string, unknown> = {}) => ({
  connection: { host: "smtp.example.com", port: 587, useTLS: true, credentialsSecretRef: { name: "creds" }, ...extra },
});

describe("StageReconciler", () => {
  it("is Ready and Current with its connection, flows and devices counted, and says so once in an Event", async () => {
    creds({ username: "mailer", password: PASSWORD });
    stage(relay());
    bindings.apply({ metadata: { namespace: ns, name: "b" }, spec: { flow: "login", stageRef: { name: "email" } } });
    devices.apply({
      metadata: { namespace: ns, name: "d" },
      spec: { stageRef: { name: "email" }, user: { id: "u" }, email: "u@example.com" },
    });
    expect(await settle()).toEqual({});
    expect(cond()).toMatchObject({ status: "True", reason: "Ready", observedGeneration: 1 });
    expect(stored()?.status).toMatchObject({
      observedGeneration: 1,
      connection: { endpoint: "smtp.example.com:587", tlsMode: "STARTTLS", source: "Stage" },
      flows: ["login"],
      deviceCount: 1,
    });
    expect(kstatus()).toBe("Current");
    expect(events.map((e) => [e.type, e.reason])).toEqual([["Normal", "Ready"]]);
    expect(JSON.stringify(stored())).not.toContain(PASSWORD);
    // No finalizer with the default deviceDeletionPolicy: nothing waits for the operator.
    expect(stored()?.metadata.finalizers ?? []).toEqual([]);
    await settle();
    expect(events).toHaveLength(1);
  });

  it("asks to be called again while a new reference's watch has not listed", async () => {
    refs.unsynced.add("Secret:app/creds");
    stage(relay());
    expect(await reconcile()).toEqual({ requeueAfterMs: 250 });
    expect(stored()?.status).toBeUndefined();
    expect(refs.watched("Secret", ns, "creds")).toBe(true);
  });

  it.each([
    [
      "a missing credentials Secret",
      relay(),
      undefined,
      "SecretNotFound",
      "the credentials Secret app/creds does not exist",
    ],
    ["a Secret without the password key", relay(), { username: "mailer" }, "MissingSecretKey", "has no key password"],
    [
      "credentials without TLS to a remote relay",
      relay({ useTLS: false }),
      { username: "mailer", password: PASSWORD },
      "InsecureAuth",
      "authenticates to smtp.example.com without TLS",
    ],
  ])(
    "is Stalled (Failed) on %s, with a Warning Event, and Ready again once fixed",
    async (_, spec, data, reason, text) => {
      creds(data);
      stage(spec);
      await settle();
      expect(cond()).toMatchObject({ status: "False", reason });
      expect(cond()?.message).toContain(text);
      expect(cond("Stalled")).toMatchObject({ status: "True", reason });
      expect(kstatus()).toBe("Failed");
      expect(events.at(-1)).toMatchObject({ type: "Warning", reason });
      expect(JSON.stringify(stored())).not.toContain(PASSWORD);

      creds({ username: "mailer", password: PASSWORD });
      stage(relay());
      await settle();
      expect(cond()).toMatchObject({ status: "True", reason: "Ready" });
    },
  );

  it("allows AUTH without TLS on loopback or with allowInsecureAuth", async () => {
    creds({ username: "mailer", password: PASSWORD });
    stage(relay({ useTLS: false, host: "127.0.0.1" }));
    await settle();
    expect(cond()).toMatchObject({ status: "True" });
    stage(relay({ useTLS: false, allowInsecureAuth: true }));
    await settle();
    expect(cond()).toMatchObject({ status: "True" });
    expect(cond()?.message).toContain("without TLS, authenticating");
  });

  it("follows the global settings: missing, invalid, cleartext AUTH refused unless allowed there", async () => {
    stage({ useGlobalSettings: true });
    await settle();
    expect(cond()).toMatchObject({ status: "False", reason: "GlobalSettingsNotFound" });
    refs.set("ConfigMap", "ops", "smtp", { host: "mail.internal", port: "smtp" });
    await settle();
    expect(cond()).toMatchObject({ status: "False", reason: "InvalidGlobalSettings" });
    expect(cond()?.message).toContain("port: must be a whole number");
    refs.set("ConfigMap", "ops", "smtp", { host: "mail.internal", port: "25" });
    refs.set("Secret", "ops", "smtp-auth", { username: "mailer", password: PASSWORD });
    await settle();
    expect(cond()).toMatchObject({ status: "False", reason: "InsecureAuth" });
    expect(cond()?.message).toContain("the global settings ConfigMap ops/smtp authenticates to mail.internal");
    refs.set("ConfigMap", "ops", "smtp", { host: "mail.internal", port: "25", allowInsecureAuth: "true" });
    await settle();
    expect(cond()).toMatchObject({ status: "True" });
    expect(stored()?.status).toMatchObject({ connection: { source: "Global", endpoint: "mail.internal:25" } });
  });

  it("is Stalled on a missing or broken template", async () => {
    stage({ templateRef: { name: "tpl" } });
    await settle();
    expect(cond()).toMatchObject({ status: "False", reason: "TemplateNotFound" });
    refs.set("ConfigMap", ns, "tpl", { "email_otp.html": "{{ code }}" });
    await settle();
    expect(cond()).toMatchObject({ status: "False", reason: "InvalidTemplate" });
    expect(cond()?.message).toBe("the template ConfigMap app/tpl has no key email_otp.txt");
  });

  it("writes the device count in batches: a new device waits for the interval, other changes write at once", async () => {
    stage({});
    const enrol = (name: string) =>
      devices.apply({
        metadata: { namespace: ns, name },
        spec: { stageRef: { name: "email" }, user: { id: name }, email: `${name}@example.com` },
      });
    enrol("d1");
    expect(await settle()).toEqual({});
    expect(countOf()).toBe(1);
    const writesAfterReady = writes.log.length;

    // Enrolments right after a write: nothing written, a look again when the interval ends.
    clock.advance(2_000);
    enrol("d2");
    expect(await reconcile()).toEqual({ requeueAfterMs: DEVICE_COUNT_INTERVAL_MS - 2_000 });
    clock.advance(3_000);
    enrol("d3");
    expect(await reconcile()).toEqual({ requeueAfterMs: DEVICE_COUNT_INTERVAL_MS - 5_000 });
    expect(writes.log.length).toBe(writesAfterReady);
    expect(countOf()).toBe(1);

    // A change that is not the count writes at once, with the current count.
    bindings.apply({ metadata: { namespace: ns, name: "b" }, spec: { flow: "login", stageRef: { name: "email" } } });
    expect(await reconcile()).toEqual({});
    expect(stored()?.status).toMatchObject({ flows: ["login"], deviceCount: 3 });
    expect(writes.log.length).toBe(writesAfterReady + 1);

    // When the interval since that write is over, the held count is written: one write for the batch.
    clock.advance(1_000);
    enrol("d4");
    enrol("d5");
    devices.delete(ns, "d1");
    expect(await reconcile()).toEqual({ requeueAfterMs: DEVICE_COUNT_INTERVAL_MS - 1_000 });
    clock.advance(DEVICE_COUNT_INTERVAL_MS - 1_000);
    expect(await reconcile()).toEqual({});
    expect(countOf()).toBe(4);
    expect(writes.log.length).toBe(writesAfterReady + 2);
    expect(await reconcile()).toEqual({});
    expect(writes.log.length).toBe(writesAfterReady + 2);
  });

  it("writes the device count at once when it has not written this stage's status since it started", async () => {
    stage({});
    await settle();
    const restarted = new StageReconciler({
      stages,
      relations: scanRelations(bindings, devices),
      refs: refs.tracker,
      writes,
      deleteDevices: () => Promise.resolve(0),
      events: { record: () => Promise.resolve() },
      checks: new ConnectionChecks(() => Promise.resolve(checkResult), clock),
      clock,
      global,
    });
    devices.apply({
      metadata: { namespace: ns, name: "d" },
      spec: { stageRef: { name: "email" }, user: { id: "u" }, email: "u@example.com" },
    });
    expect(await restarted.reconcile({ namespace: ns, name: "email" }, ctx)).toEqual({});
    expect(countOf()).toBe(1);
  });

  it("is Stalled on a stored object the schema refuses, keeping its other status fields", async () => {
    stages.apply({
      metadata: { namespace: ns, name: "old" },
      spec: { tokenExpiry: 99999 },
      status: { deviceCount: 3 },
    });
    await settle("old");
    expect(cond("Ready", "old")).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(cond("Ready", "old")?.message).toMatch(/schema: spec\.tokenExpiry: /);
    expect(stored("old")?.status).toMatchObject({ deviceCount: 3, observedGeneration: 1 });
    expect(kstatus("old")).toBe("Failed");
  });

  describe("ConnectionVerified", () => {
    it("reports the check as its own condition, never as Ready, and checks again after the interval", async () => {
      stage({ connection: { host: "127.0.0.1", port: 2525 }, connectionCheck: { enabled: true, intervalMinutes: 5 } });
      expect(await settle()).toEqual({ requeueAfterMs: 300_000 });
      expect(cond("ConnectionVerified")).toMatchObject({ status: "True", reason: "Verified" });
      expect(checked).toHaveLength(1);

      checkResult = { ok: false, reason: "ConnectionFailed", message: "connection refused" };
      clock.advance(300_000);
      await settle();
      expect(checked).toHaveLength(2);
      expect(cond("ConnectionVerified")).toMatchObject({ status: "False", reason: "ConnectionFailed" });
      // An unreachable relay is not a configuration error: still Ready, still Current.
      expect(cond()).toMatchObject({ status: "True" });
      expect(kstatus()).toBe("Current");
    });

    it("is Unknown while the settings cannot be resolved, and absent when checks are off", async () => {
      stage({ ...relay(), connectionCheck: { enabled: true } });
      await settle();
      expect(cond("ConnectionVerified")).toMatchObject({ status: "Unknown", reason: "SettingsUnusable" });
      expect(checked).toHaveLength(0);
      stage(relay());
      await settle();
      expect(cond("ConnectionVerified")).toBeUndefined();
    });
  });

  describe("ConfigureFlowReady", () => {
    const bind = (name: string, spec: Record<string, unknown>) =>
      bindings.apply({ metadata: { namespace: ns, name }, spec: { stageRef: { name: "email" }, ...spec } });

    it("says whether the configure flow exists and sets this stage up, without changing readiness", async () => {
      stage({ configureFlow: "enroll" });
      await settle();
      expect(cond("ConfigureFlowReady")).toMatchObject({ status: "False", reason: "FlowNotFound" });
      expect(cond()).toMatchObject({ status: "True" });
      expect(kstatus()).toBe("Current");

      bind("enroll-auth", { flow: "enroll", intent: "Authenticate" });
      bind("other-setup", { flow: "enroll", stageRef: { name: "other" }, order: 5 });
      await settle();
      expect(cond("ConfigureFlowReady")).toMatchObject({ status: "False", reason: "NoSetupBinding" });

      bind("enroll-setup", { flow: "enroll", intent: "Setup", order: 1 });
      await settle();
      expect(cond("ConfigureFlowReady")).toMatchObject({
        status: "True",
        reason: "SetupBindingFound",
        message: "flow enroll sets this authenticator up (FlowBinding enroll-setup)",
      });
      expect(kstatus()).toBe("Current");

      stage({});
      await settle();
      expect(cond("ConfigureFlowReady")).toBeUndefined();
    });
  });

  describe("finalizers and deletion", () => {
    it("goes at once with deviceDeletionPolicy Retain, leaving its devices", async () => {
      stage({});
      devices.apply({
        metadata: { namespace: ns, name: "d" },
        spec: { stageRef: { name: "email" }, user: { id: "u" }, email: "u@example.com" },
      });
      await settle();
      stages.delete(ns, "email");
      expect(stored()).toBeUndefined();
      await settle();
      expect(devices.get(ns, "d")).toBeDefined();
      expect(refs.watched("Secret", ns, "creds")).toBe(false);
    });

    it("holds a Delete-policy stage with a finalizer until its devices are deleted, and only those", async () => {
      stage({ deviceDeletionPolicy: "Delete" });
      await settle();
      expect(stored()?.metadata.finalizers).toEqual([DEVICES_FINALIZER]);
      for (const [name, stageName] of [
        ["mine", "email"],
        ["theirs", "other"],
      ] as const)
        devices.apply({
          metadata: { namespace: ns, name },
          spec: { stageRef: { name: stageName }, user: { id: "u" }, email: "u@example.com" },
        });

      stages.delete(ns, "email");
      expect(stored()?.metadata.deletionTimestamp).toBeDefined();
      await settle();
      expect(deletedDevices).toEqual(["mine"]);
      expect(devices.get(ns, "theirs")).toBeDefined();
      expect(stored()).toBeUndefined();
      expect(events.at(-1)).toMatchObject({ type: "Normal", reason: "DevicesDeleted" });
    });

    it("drops its finalizer when the policy goes back to Retain, and the old executions finalizer on sight", async () => {
      stage({ deviceDeletionPolicy: "Delete" }, "email", { finalizers: [LEGACY_EXECUTIONS_FINALIZER] });
      await settle();
      expect(stored()?.metadata.finalizers).toEqual([DEVICES_FINALIZER]);
      stage({ deviceDeletionPolicy: "Retain" });
      await settle();
      expect(stored()?.metadata.finalizers).toEqual([]);

      stage({}, "legacy", { finalizers: [LEGACY_EXECUTIONS_FINALIZER] });
      stages.delete(ns, "legacy");
      await settle("legacy");
      expect(stored("legacy")).toBeUndefined();
    });
  });
});
