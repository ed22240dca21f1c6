// FlowBinding: the generic status reconciler, gathering its stage from the (typed) cache and its
// flow's other bindings from the index kept over it (not a scan of the namespace's bindings).
import type { CustomObjectsApi } from "@emailauth/operator-runtime";
import type { Clock, ObjectCache } from "@emailauth/operator-runtime";
import type { FlowBindingSpec, FlowBindingStatus } from "../../kinds/v1alpha1/flowbinding.ts";
import type { FlowBindingObject, StageObject } from "../../kinds/v1alpha1/objects.ts";
import { FLOW_BINDINGS } from "../../k8s/custom-objects.ts";
import { createdAt } from "../missing-stage.ts";
import { apiWrites, type ObjectWrites } from "../object-writes.ts";
import { type StatusKind, StatusReconciler } from "../status-reconciler.ts";
import { type FlowBindingInput, planFlowBinding } from "./policy.ts";

export interface FlowBindingCaches {
  bindings: ObjectCache<FlowBindingObject>;
  stages: ObjectCache<StageObject>;
  related: BindingRelations;
}

export interface BindingRelations {
  /** Every cached binding of a flow in a namespace. */
  bindingsOfFlow(namespace: string, flow: string): FlowBindingObject[];
}

export function flowBindingKind(
  c: FlowBindingCaches,
): StatusKind<FlowBindingSpec, FlowBindingStatus, FlowBindingInput> {
  return {
    resource: FLOW_BINDINGS,
    objects: c.bindings,
    gather(binding, req) {
      const spec = binding.spec;
      const stage = c.stages.get(req.namespace, spec.stageRef.name);
      // A binding this operator cannot read is not in the cache: it reports that itself.
      const flowBindings = c.related
        .bindingsOfFlow(req.namespace, spec.flow)
        .filter((b) => !b.metadata?.deletionTimestamp)
        .map((b) => ({ name: b.metadata?.name ?? "", spec: b.spec }));
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
