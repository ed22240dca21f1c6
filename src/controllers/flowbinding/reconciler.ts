// FlowBinding: reads its stage and its flow's other bindings from the caches, plans, writes on change.
import type { CustomObjectsApi } from "@kubernetes/client-node";
import { flowBindingSpec, type FlowBindingSpec, type FlowBindingStatus } from "../../kinds/v1alpha1/flowbinding.ts";
import type { StageStatus } from "../../kinds/v1alpha1/stage.ts";
import { type CustomObject } from "@emailauth/operator-runtime";
import { FLOW_BINDINGS } from "../../k8s/custom-objects.ts";
import { writeStatus } from "@emailauth/operator-runtime";
import type { Clock } from "@emailauth/operator-runtime";
import type { ObjectCache } from "@emailauth/operator-runtime";
import type { Reconciler, Request, Result } from "@emailauth/operator-runtime";
import { planFlowBinding } from "./policy.ts";

export type FlowBindingObject = CustomObject<FlowBindingSpec, FlowBindingStatus>;

export interface FlowBindingReconcilerDeps {
  bindings: ObjectCache<FlowBindingObject>;
  stages: ObjectCache<CustomObject<unknown, StageStatus>>;
  custom: CustomObjectsApi;
  clock: Clock;
}

export class FlowBindingReconciler implements Reconciler {
  readonly #d: FlowBindingReconcilerDeps;

  constructor(deps: FlowBindingReconcilerDeps) {
    this.#d = deps;
  }

  async reconcile(req: Request): Promise<Result> {
    const d = this.#d;
    const binding = d.bindings.get(req.namespace, req.name);
    if (!binding || binding.metadata?.deletionTimestamp) return {};
    const spec = flowBindingSpec.parse(binding.spec);
    const stage = d.stages.get(req.namespace, spec.stageRef.name);
    const flowBindings = d.bindings
      .list(req.namespace)
      .filter((b) => b.spec?.flow === spec.flow && !b.metadata?.deletionTimestamp)
      .map((b) => ({ name: b.metadata?.name ?? "", spec: flowBindingSpec.parse(b.spec) }));
    const plan = planFlowBinding(
      {
        namespace: req.namespace,
        name: req.name,
        generation: binding.metadata?.generation ?? 0,
        spec,
        ...(binding.status ? { status: binding.status } : {}),
        stage:
          stage && !stage.metadata?.deletionTimestamp
            ? { generation: stage.metadata?.generation ?? 0, ...(stage.status ? { status: stage.status } : {}) }
            : null,
        flowBindings,
      },
      d.clock.now(),
    );
    if (plan.changed) {
      const m = binding.metadata ?? {};
      await writeStatus(
        d.custom,
        { resource: FLOW_BINDINGS, namespace: req.namespace, name: req.name, resourceVersion: m.resourceVersion ?? "" },
        binding.status,
        plan.status,
      );
    }
    return {};
  }
}
