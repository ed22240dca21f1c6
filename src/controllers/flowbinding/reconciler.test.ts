// The FlowBinding reconciler against in-memory caches and a fake clock: every condition a
// binding can report, reached through the caches the way the operator reaches it.
import { computeKStatus, FakeClock } from "@emailauth/operator-runtime";
import { beforeEach, describe, expect, it } from "vitest";
import { FLOW_BINDINGS, STAGES } from "../../k8s/custom-objects.ts";
import { STAGE_GRACE_MS } from "../missing-stage.ts";
import { FakeObjects, FakeWrites } from "../testing/fake-objects.ts";
import { FlowBindingReconciler } from "./reconciler.ts";
import {
  decodeFlowBinding,
  decodeStage,
  type FlowBindingObject,
  type StageObject,
} from "../../kinds/v1alpha1/objects.ts";

const ns = "app";
let clock: FakeClock;
let stages: FakeObjects<StageObject>;
let bindings: FakeObjects<FlowBindingObject>;
let writes: FakeWrites;
let reconciler: FlowBindingReconciler;

const meta = (name: string) => ({ namespace: ns, name });
const bind = (name: string, spec: Record<string, unknown>, createdAt = clock.now()) =>
  bindings.apply(
    { metadata: meta(name), spec: { stageRef: { name: "email" }, order: 10, flow: "login", ...spec } },
    createdAt,
  );
const stageStatus = (ready: "True" | "False" | "Unknown", reason: string, message: string) => ({
  observedGeneration: 1,
  conditions: [
    { type: "Ready", status: ready, reason, message, lastTransitionTime: "2026-01-01T00:00:00Z" },
    {
      type: "Stalled",
      status: ready === "False" ? "True" : "False",
      reason,
      message: "",
      lastTransitionTime: "2026-01-01T00:00:00Z",
    },
    {
      type: "Reconciling",
      status: ready === "Unknown" ? "True" : "False",
      reason,
      message: "",
      lastTransitionTime: "2026-01-01T00:00:00Z",
    },
  ],
});
const readyStage = () =>
  stages.apply({ metadata: meta("email"), spec: {}, status: stageStatus("True", "Ready", "sends") });
const reconcile = (name: string) => reconciler.reconcile({ namespace: ns, name });
const ready = (name: string) => bindings.raw(ns, name)?.status?.conditions?.find((c) => c.type === "Ready");
const kstatus = (name: string) => computeKStatus(bindings.raw(ns, name) ?? {}).status;

beforeEach(() => {
  clock = new FakeClock(new Date("2026-01-01T00:00:00Z"));
  const versions = { next: 1 };
  stages = new FakeObjects(decodeStage, versions);
  bindings = new FakeObjects(decodeFlowBinding, versions);
  writes = new FakeWrites({ [STAGES.plural]: stages, [FLOW_BINDINGS.plural]: bindings });
  // The operator's index of a flow's bindings, over the in-memory cache.
  const related = { bindingsOfFlow: (n: string, flow: string) => bindings.list(n).filter((b) => b.spec.flow === flow) };
  reconciler = new FlowBindingReconciler({ bindings, stages, related, writes, clock });
});

describe("FlowBindingReconciler", () => {
  it("is Ready (Current) with a ready stage, and writes nothing more when nothing changed", async () => {
    readyStage();
    bind("me", {});
    expect(await reconcile("me")).toEqual({});
    expect(ready("me")).toMatchObject({ status: "True", reason: "Ready", observedGeneration: 1 });
    expect(bindings.get(ns, "me")?.status?.observedGeneration).toBe(1);
    expect(kstatus("me")).toBe("Current");
    clock.advance(60_000);
    await reconcile("me");
    expect(writes.log).toHaveLength(1);
  });

  it("waits for a missing stage, asks to look again when the grace ends, then stalls; recovers when it appears", async () => {
    bind("me", {});
    expect(await reconcile("me")).toEqual({ requeueAfterMs: STAGE_GRACE_MS });
    expect(ready("me")).toMatchObject({ status: "Unknown", reason: "StageNotFound" });
    expect(kstatus("me")).toBe("InProgress");

    clock.advance(STAGE_GRACE_MS);
    expect(await reconcile("me")).toEqual({});
    expect(ready("me")).toMatchObject({ status: "False", reason: "StageNotFound" });
    expect(kstatus("me")).toBe("Failed");

    readyStage();
    await reconcile("me");
    expect(ready("me")).toMatchObject({ status: "True", reason: "Ready" });
    // Reconciling went True then False, Stalled True then False: each transition time moved.
    expect(ready("me")?.lastTransitionTime).toBe("2026-01-01T00:00:15Z");
  });

  it("treats a stage being deleted as missing", async () => {
    stages.apply({
      metadata: { ...meta("email"), finalizers: ["x"] },
      spec: {},
      status: stageStatus("True", "Ready", ""),
    });
    stages.delete(ns, "email");
    bind("me", {}, new Date("2025-12-01T00:00:00Z"));
    await reconcile("me");
    expect(ready("me")).toMatchObject({ status: "False", reason: "StageNotFound" });
  });

  it("is Stalled while its stage is Stalled and in progress while the stage reconciles", async () => {
    stages.apply({ metadata: meta("email"), spec: {}, status: stageStatus("False", "InsecureAuth", "clear text") });
    bind("me", {});
    await reconcile("me");
    expect(ready("me")).toMatchObject({ status: "False", reason: "StageNotReady" });
    expect(ready("me")?.message).toBe("EmailAuthenticatorStage app/email is not ready: clear text");
    expect(kstatus("me")).toBe("Failed");

    stages.apply({ metadata: meta("email"), spec: {}, status: stageStatus("Unknown", "Checking", "busy") });
    await reconcile("me");
    expect(ready("me")).toMatchObject({ status: "Unknown", reason: "StageNotReady" });
    expect(kstatus("me")).toBe("InProgress");

    // A spec change the stage's controller has not observed yet.
    stages.apply({ metadata: meta("email"), spec: { subject: "new" } });
    await reconcile("me");
    expect(ready("me")).toMatchObject({ status: "Unknown", reason: "StageReconciling" });
  });

  it("stalls both bindings of a flow at one order, and one stage bound twice", async () => {
    readyStage();
    stages.apply({ metadata: meta("other"), spec: {}, status: stageStatus("True", "Ready", "") });
    bind("a", {});
    bind("b", { stageRef: { name: "other" } });
    await reconcile("a");
    await reconcile("b");
    expect(ready("a")).toMatchObject({ status: "False", reason: "DuplicateOrder" });
    expect(ready("b")?.message).toBe("FlowBindings a, b all bind flow login at order 10; give each its own order");

    bind("b", { stageRef: { name: "email" }, order: 20 });
    await reconcile("a");
    expect(ready("a")).toMatchObject({ status: "False", reason: "StageBoundTwice" });
    expect(kstatus("a")).toBe("Failed");

    bind("b", { stageRef: { name: "other" }, order: 20 });
    await reconcile("a");
    expect(ready("a")).toMatchObject({ status: "True" });
  });

  it("stalls on a stored spec this operator cannot read instead of failing forever", async () => {
    readyStage();
    bindings.apply({ metadata: meta("old"), spec: { flow: "Not A Label", stageRef: { name: "email" }, extra: 1 } });
    expect(await reconcile("old")).toEqual({});
    expect(ready("old")).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(ready("old")?.message).toMatch(/^the stored object does not match this operator's schema: spec\.flow: /);
    expect(kstatus("old")).toBe("Failed");
    // It conflicts with nothing: a good binding at the same order stays Ready.
    bind("good", { order: 0 });
    await reconcile("good");
    expect(ready("good")?.status).toBe("True");
  });

  it("does nothing for an object that is gone or being deleted", async () => {
    expect(await reconcile("nothing")).toEqual({});
    bindings.apply({ metadata: { ...meta("going"), finalizers: ["x"] }, spec: { flow: "f", stageRef: { name: "s" } } });
    bindings.delete(ns, "going");
    await reconcile("going");
    expect(writes.log).toEqual([]);
  });
});
