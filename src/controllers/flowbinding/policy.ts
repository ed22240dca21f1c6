// A FlowBinding's status: it mirrors its stage's readiness and reports conflicts with the
// other bindings of its flow. Pure; the gatherer passes the stage (or null) and the flow's
// bindings from the caches. Every state only a user can end is Stalled: conflicts, a stage
// that stays missing, a stage that is itself Stalled.
import type { FlowBindingSpec, FlowBindingStatus } from "../../kinds/v1alpha1/flowbinding.ts";
import type { StageStatus } from "../../kinds/v1alpha1/stage.ts";
import { findCondition, type Readiness } from "@emailauth/operator-runtime";
import { missingStage } from "../missing-stage.ts";
import type { StatusDecision } from "../status.ts";

export interface BindingRef {
  name: string;
  spec: FlowBindingSpec;
}

export interface FlowBindingInput {
  namespace: string;
  name: string;
  spec: FlowBindingSpec;
  createdAt?: Date;
  /** null when the stage does not exist (or is being deleted). */
  stage: { generation: number; status?: StageStatus } | null;
  /** Every binding of the same flow in the namespace, this one included. */
  flowBindings: BindingRef[];
}

export function planFlowBinding(input: FlowBindingInput, now: Date): StatusDecision<FlowBindingStatus> {
  const c = conflict(input);
  return c ? { readiness: c } : stageReadiness(input, now);
}

function conflict({ name, spec, flowBindings }: FlowBindingInput): Readiness | undefined {
  const others = flowBindings.filter((b) => b.name !== name).sort((a, b) => a.name.localeCompare(b.name));
  const sameOrder = others.filter((b) => b.spec.order === spec.order);
  if (sameOrder.length) {
    const names = [name, ...sameOrder.map((b) => b.name)].sort().join(", ");
    return {
      stalled: {
        reason: "DuplicateOrder",
        message: `FlowBindings ${names} all bind flow ${spec.flow} at order ${spec.order}; give each its own order`,
      },
    };
  }
  // One stage twice in a flow would send a second code for an address that was just proven.
  const sameStage = others.filter((b) => b.spec.stageRef.name === spec.stageRef.name);
  if (sameStage.length) {
    const names = [name, ...sameStage.map((b) => b.name)].sort().join(", ");
    return {
      stalled: {
        reason: "StageBoundTwice",
        message: `FlowBindings ${names} bind stage ${spec.stageRef.name} into flow ${spec.flow} more than once; a flow uses a stage once, to set an address up or to authenticate with it`,
      },
    };
  }
  return undefined;
}

function stageReadiness({ namespace, spec, stage, createdAt }: FlowBindingInput, now: Date): StatusDecision {
  const stageName = `EmailAuthenticatorStage ${namespace}/${spec.stageRef.name}`;
  if (!stage)
    return missingStage(
      createdAt,
      now,
      stageName,
      `${stageName} does not exist; create it, or bind an existing stage with a new FlowBinding`,
    );
  const ready = findCondition(stage.status?.conditions, "Ready");
  const current = stage.status?.observedGeneration === stage.generation;
  // The stage's own reconcile is under way: it ends without anyone's help.
  if (!ready || !current)
    return {
      readiness: { reconciling: { reason: "StageReconciling", message: `waiting for ${stageName} to be reconciled` } },
    };
  if (ready.status === "True")
    return {
      readiness: {
        ready: {
          reason: "Ready",
          message: `bound into flow ${spec.flow} at order ${spec.order}; ${stageName} is ready`,
        },
      },
    };
  const message = `${stageName} is not ready: ${ready.message}`;
  return findCondition(stage.status?.conditions, "Stalled")?.status === "True"
    ? { readiness: { stalled: { reason: "StageNotReady", message } } }
    : { readiness: { reconciling: { reason: "StageNotReady", message } } };
}
