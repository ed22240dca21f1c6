// A FlowBinding's status: it mirrors its stage's readiness and reports conflicts with the
// other bindings of its flow. Pure; the gatherer passes the stage (or null) and the flow's
// bindings from the caches.
import type { FlowBindingSpec, FlowBindingStatus } from "../../kinds/v1alpha1/flowbinding.ts";
import type { StageStatus } from "../../kinds/v1alpha1/stage.ts";
import { readinessConditions, statusEqual, type Readiness } from "@emailauth/operator-runtime";

export interface BindingRef {
  name: string;
  spec: FlowBindingSpec;
}

export interface FlowBindingInput {
  namespace: string;
  name: string;
  generation: number;
  spec: FlowBindingSpec;
  status?: FlowBindingStatus;
  /** null when the stage does not exist. */
  stage: { generation: number; status?: StageStatus } | null;
  /** Every binding of the same flow in the namespace, this one included. */
  flowBindings: BindingRef[];
}

export interface FlowBindingPlan {
  status: FlowBindingStatus;
  changed: boolean;
}

export function planFlowBinding(input: FlowBindingInput, now: Date): FlowBindingPlan {
  const readiness = conflict(input) ?? stageReadiness(input);
  const status: FlowBindingStatus = {
    observedGeneration: input.generation,
    conditions: readinessConditions({ generation: input.generation, ...readiness }, now, input.status?.conditions),
  };
  return { status, changed: !statusEqual(status, input.status ?? {}) };
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

function stageReadiness({ namespace, spec, stage }: FlowBindingInput): Readiness {
  const stageName = `EmailAuthenticatorStage ${namespace}/${spec.stageRef.name}`;
  // A missing stage is usually an ordering matter in GitOps (the stage is applied next), so
  // this is progress, not a failure.
  if (!stage) return { reconciling: { reason: "StageNotFound", message: `${stageName} does not exist yet` } };
  const ready = stage.status?.conditions?.find((c) => c.type === "Ready");
  const current = stage.status?.observedGeneration === stage.generation;
  if (ready?.status === "True" && current)
    return {
      ready: { reason: "Ready", message: `bound into flow ${spec.flow} at order ${spec.order}; ${stageName} is ready` },
    };
  if (!ready || !current)
    return { reconciling: { reason: "StageReconciling", message: `waiting for ${stageName} to be reconciled` } };
  return { reconciling: { reason: "StageNotReady", message: `${stageName} is not ready: ${ready.message}` } };
}
