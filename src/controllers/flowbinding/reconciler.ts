// FlowBinding: the generic status reconciler, gathering its stage and its flow's other
// bindings from the caches.
import { flowBindingSpec, type FlowBindingSpec, type FlowBindingStatus } from "../../kinds/v1alpha1/flowbinding.ts";
import type { StageStatus } from "../../kinds/v1alpha1/stage.ts";
import type { CustomObjectsApi } from "@kubernetes/client-node";
import type { Clock, CustomObject, ObjectCache } from "@emailauth/operator-runtime";
import { FLOW_BINDINGS } from "../../k8s/custom-objects.ts";
import { createdAt } from "../missing-stage.ts";
import { apiWrites, type ObjectWrites } from "../object-writes.ts";
import { type StatusKind, StatusReconciler } from "../status-reconciler.ts";
import { type FlowBindingInput, planFlowBinding } from "./policy.ts";

export type FlowBindingObject = CustomObject<FlowBindingSpec, FlowBindingStatus>;

export interface FlowBindingCaches {
  bindings: ObjectCache<CustomObject<unknown, FlowBindingStatus>>;
  stages: ObjectCache<CustomObject<unknown, StageStatus>>;
}

export function flowBindingKind(
  c: FlowBindingCaches,
): StatusKind<FlowBindingSpec, FlowBindingStatus, FlowBindingInput> {
  return {
    resource: FLOW_BINDINGS,
    objects: c.bindings,
    spec: flowBindingSpec,
    gather(binding, req) {
      const spec = binding.spec;
      const stage = c.stages.get(req.namespace, spec.stageRef.name);
      const flowBindings = c.bindings.list(req.namespace).flatMap((b) => {
        if (b.metadata?.deletionTimestamp) return [];
        // A binding this operator cannot read reports that itself; it conflicts with nothing.
        const parsed = flowBindingSpec.safeParse(b.spec);
        return parsed.success && parsed.data.flow === spec.flow
          ? [{ name: b.metadata?.name ?? "", spec: parsed.data }]
          : [];
      });
      const created = createdAt(binding.metadata);
      return {
        namespace: req.namespace,
        name: req.name,
        spec,
        ...(created ? { createdAt: created } : {}),
        stage:
          stage && !stage.metadata?.deletionTimestamp
            ? { generation: stage.metadata?.generation ?? 0, ...(stage.status ? { status: stage.status } : {}) }
            : null,
        flowBindings,
      };
    },
    plan: planFlowBinding,
  };
}

export type FlowBindingReconcilerDeps = FlowBindingCaches & { clock: Clock } & (
    { writes: ObjectWrites } | { custom: CustomObjectsApi }
  );

export class FlowBindingReconciler extends StatusReconciler<FlowBindingSpec, FlowBindingStatus, FlowBindingInput> {
  constructor(deps: FlowBindingReconcilerDeps) {
    super(flowBindingKind(deps), {
      writes: "writes" in deps ? deps.writes : apiWrites(deps.custom),
      clock: deps.clock,
    });
  }
}
