import { describe, expect, it } from "vitest";
import { flowBindingSpec } from "../../kinds/v1alpha1/flowbinding.ts";
import { computeKStatus } from "@emailauth/operator-runtime";
import { STAGE_GRACE_MS } from "../missing-stage.ts";
import { composeStatus } from "../status.ts";
import { planFlowBinding, type FlowBindingInput } from "./policy.ts";

const now = new Date("2026-01-01T00:00:00Z");
const spec = (s: unknown) => flowBindingSpec.parse(s);
const stageWith = (ready: "True" | "False" | "Unknown", reason: string, message: string, stalled = false) => ({
  generation: 1,
  status: {
    observedGeneration: 1,
    conditions: [
      { type: "Ready", status: ready, reason, message, lastTransitionTime: "2026-01-01T00:00:00Z" },
      {
        type: "Stalled",
        status: stalled ? ("True" as const) : ("False" as const),
        reason,
        message: "",
        lastTransitionTime: "2026-01-01T00:00:00Z",
      },
    ],
  },
});
const readyStage = stageWith("True", "Ready", "ok");
const me = spec({ flow: "login", stageRef: { name: "email" }, order: 10 });

function input(extra: Partial<FlowBindingInput>): FlowBindingInput {
  return {
    namespace: "app",
    name: "me",
    spec: me,
    createdAt: new Date(now.getTime() - 3_600_000),
    stage: readyStage,
    flowBindings: [{ name: "me", spec: me }],
    ...extra,
  };
}
const statusOf = (i: FlowBindingInput, at = now) => composeStatus(2, undefined, planFlowBinding(i, at), at);
const ready = (i: FlowBindingInput, at = now) => statusOf(i, at).conditions.find((c) => c.type === "Ready");
const kstatusOf = (i: FlowBindingInput, at = now) =>
  computeKStatus({ metadata: { generation: 2 }, status: statusOf(i, at) }).status;

describe("planFlowBinding", () => {
  it("is Ready when its stage is, and Current for kstatus", () => {
    expect(ready(input({}))).toMatchObject({
      status: "True",
      message: "bound into flow login at order 10; EmailAuthenticatorStage app/email is ready",
    });
    expect(kstatusOf(input({}))).toBe("Current");
  });

  it("waits a grace period for a missing stage (GitOps applies both at once), then stalls", () => {
    const fresh = input({ stage: null, createdAt: now });
    expect(ready(fresh)).toMatchObject({
      status: "Unknown",
      reason: "StageNotFound",
      message: "EmailAuthenticatorStage app/email does not exist yet",
    });
    expect(kstatusOf(fresh)).toBe("InProgress");
    expect(planFlowBinding(fresh, now).requeueAfterMs).toBe(STAGE_GRACE_MS);

    const later = new Date(now.getTime() + STAGE_GRACE_MS);
    expect(ready(fresh, later)).toMatchObject({ status: "False", reason: "StageNotFound" });
    expect(ready(fresh, later)?.message).toBe(
      "EmailAuthenticatorStage app/email does not exist; create it, or bind an existing stage with a new FlowBinding",
    );
    expect(kstatusOf(fresh, later)).toBe("Failed");
    expect(planFlowBinding(fresh, later).requeueAfterMs).toBeUndefined();
  });

  it("stalls at once when an old binding loses its stage", () => {
    expect(kstatusOf(input({ stage: null }))).toBe("Failed");
  });

  it("mirrors a Stalled stage as Stalled, with the stage's message", () => {
    const stalled = stageWith("False", "SecretNotFound", "the credentials Secret app/c does not exist", true);
    expect(ready(input({ stage: stalled }))).toMatchObject({
      status: "False",
      reason: "StageNotReady",
      message: "EmailAuthenticatorStage app/email is not ready: the credentials Secret app/c does not exist",
    });
    expect(kstatusOf(input({ stage: stalled }))).toBe("Failed");
  });

  it("is in progress while its stage is (not yet reconciled, or reconciling)", () => {
    expect(ready(input({ stage: { ...readyStage, generation: 2 } }))?.reason).toBe("StageReconciling");
    expect(ready(input({ stage: { generation: 1 } }))?.reason).toBe("StageReconciling");
    const reconciling = stageWith("Unknown", "Checking", "busy");
    expect(ready(input({ stage: reconciling }))).toMatchObject({ status: "Unknown", reason: "StageNotReady" });
    expect(kstatusOf(input({ stage: reconciling }))).toBe("InProgress");
  });

  it("stalls on two bindings of one flow at the same order, naming both", () => {
    const other = spec({ flow: "login", stageRef: { name: "other" }, order: 10 });
    const i = input({
      flowBindings: [
        { name: "me", spec: me },
        { name: "zz", spec: other },
      ],
    });
    expect(ready(i)).toMatchObject({
      status: "False",
      reason: "DuplicateOrder",
      message: "FlowBindings me, zz all bind flow login at order 10; give each its own order",
    });
    expect(kstatusOf(i)).toBe("Failed");
  });

  it("stalls on one stage bound twice into a flow", () => {
    const again = spec({ flow: "login", stageRef: { name: "email" }, order: 20, intent: "Authenticate" });
    const i = input({
      flowBindings: [
        { name: "me", spec: me },
        { name: "again", spec: again },
      ],
    });
    expect(ready(i)?.reason).toBe("StageBoundTwice");
    expect(kstatusOf(i)).toBe("Failed");
  });
});
