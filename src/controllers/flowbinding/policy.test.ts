import { describe, expect, it } from "vitest";
import { flowBindingSpec } from "../../kinds/v1alpha1/flowbinding.ts";
import { computeKStatus } from "@emailauth/operator-runtime";
import { planFlowBinding, type FlowBindingInput } from "./policy.ts";

const now = new Date("2026-01-01T00:00:00Z");
const spec = (s: unknown) => flowBindingSpec.parse(s);
const readyStage = {
  generation: 1,
  status: {
    observedGeneration: 1,
    conditions: [
      {
        type: "Ready",
        status: "True" as const,
        reason: "Ready",
        message: "ok",
        lastTransitionTime: "2026-01-01T00:00:00Z",
      },
    ],
  },
};
const me = spec({ flow: "login", stageRef: { name: "email" }, order: 10 });

function input(extra: Partial<FlowBindingInput>): FlowBindingInput {
  return {
    namespace: "app",
    name: "me",
    generation: 2,
    spec: me,
    stage: readyStage,
    flowBindings: [{ name: "me", spec: me }],
    ...extra,
  };
}
const ready = (i: FlowBindingInput) => planFlowBinding(i, now).status.conditions?.find((c) => c.type === "Ready");
const kstatusOf = (i: FlowBindingInput) => {
  const status = planFlowBinding(i, now).status;
  return computeKStatus({ metadata: { generation: i.generation }, status }).status;
};

describe("planFlowBinding", () => {
  it("is Ready when its stage is, and Current for kstatus", () => {
    expect(ready(input({}))).toMatchObject({
      status: "True",
      message: "bound into flow login at order 10; EmailAuthenticatorStage app/email is ready",
    });
    expect(kstatusOf(input({}))).toBe("Current");
  });

  it("is not Ready, and in progress rather than failed, while its stage is missing", () => {
    expect(ready(input({ stage: null }))).toMatchObject({
      reason: "StageNotFound",
      message: "EmailAuthenticatorStage app/email does not exist yet",
    });
    expect(ready(input({ stage: null }))?.status).not.toBe("True");
    expect(kstatusOf(input({ stage: null }))).toBe("InProgress");
  });

  it("mirrors a stage that is not ready, with the stage's message", () => {
    const stalled = {
      generation: 1,
      status: {
        observedGeneration: 1,
        conditions: [
          {
            type: "Ready",
            status: "False" as const,
            reason: "SecretNotFound",
            message: "the credentials Secret app/c does not exist",
            lastTransitionTime: "2026-01-01T00:00:00Z",
          },
        ],
      },
    };
    expect(ready(input({ stage: stalled }))).toMatchObject({
      reason: "StageNotReady",
      message: "EmailAuthenticatorStage app/email is not ready: the credentials Secret app/c does not exist",
    });
    expect(ready(input({ stage: { ...readyStage, generation: 2 } }))?.reason).toBe("StageReconciling");
  });

  it("stalls on two bindings of one flow at the same order, naming both", () => {
    const other = spec({ flow: "login", stageRef: { name: "other" }, order: 10 });
    const c = ready(
      input({
        flowBindings: [
          { name: "me", spec: me },
          { name: "zz", spec: other },
        ],
      }),
    );
    expect(c).toMatchObject({
      status: "False",
      reason: "DuplicateOrder",
      message: "FlowBindings me, zz all bind flow login at order 10; give each its own order",
    });
    expect(
      kstatusOf(
        input({
          flowBindings: [
            { name: "me", spec: me },
            { name: "zz", spec: other },
          ],
        }),
      ),
    ).toBe("Failed");
  });

  it("stalls on one stage bound twice into a flow", () => {
    const again = spec({ flow: "login", stageRef: { name: "email" }, order: 20, intent: "Authenticate" });
    expect(
      ready(
        input({
          flowBindings: [
            { name: "me", spec: me },
            { name: "again", spec: again },
          ],
        }),
      )?.reason,
    ).toBe("StageBoundTwice");
  });

  it("asks for no write when the status is unchanged", () => {
    const first = planFlowBinding(input({}), now);
    expect(planFlowBinding(input({ status: first.status }), new Date("2026-02-01T00:00:00Z")).changed).toBe(false);
  });
});
