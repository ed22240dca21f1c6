// A flow is the ordered set of FlowBindings that share a flow name in a namespace. An
// execution may start only when every binding (and so its stage) is Ready.
import { flowBindingSpec } from "../kinds/v1alpha1/flowbinding.ts";
import type { CustomObject } from "@emailauth/operator-runtime";
import type { Condition } from "@emailauth/operator-runtime";

export interface FlowStep {
  binding: string;
  stage: string;
  order: number;
  intent: "Setup" | "Authenticate";
  whenNoDevice: "Deny" | "Setup";
}

export type FlowResolution =
  { ok: true; steps: FlowStep[] } | { ok: false; code: "not_found" | "stage_not_ready"; detail: string };

export type BindingObject = CustomObject<unknown, { observedGeneration?: number; conditions?: Condition[] }>;

/**
 * The FlowBindings that name a flow in a namespace, from an index the informers keep: a flow's
 * start costs its own bindings, not a scan of every binding in the namespace.
 */
export interface FlowBindings {
  of(namespace: string, flow: string): readonly BindingObject[];
}

export function resolveFlow(namespace: string, flow: string, bindings: readonly BindingObject[]): FlowResolution {
  const steps: (FlowStep & { ready?: Condition; current: boolean })[] = [];
  for (const b of bindings) {
    const parsed = flowBindingSpec.safeParse(b.spec);
    if (!parsed.success || parsed.data.flow !== flow || b.metadata?.deletionTimestamp) continue;
    const s = parsed.data;
    steps.push({
      binding: b.metadata?.name ?? "",
      stage: s.stageRef.name,
      order: s.order,
      intent: s.intent,
      whenNoDevice: s.whenNoDevice ?? "Deny",
      current: b.status?.observedGeneration === b.metadata?.generation,
      ...(b.status?.conditions?.find((c) => c.type === "Ready")
        ? { ready: b.status?.conditions?.find((c) => c.type === "Ready") }
        : {}),
    });
  }
  if (!steps.length) return { ok: false, code: "not_found", detail: `flow ${namespace}/${flow} has no FlowBindings` };
  steps.sort((a, b) => a.order - b.order || a.binding.localeCompare(b.binding));
  const notReady = steps.find((s) => s.ready?.status !== "True" || !s.current);
  if (notReady) {
    return {
      ok: false,
      code: "stage_not_ready",
      detail: `FlowBinding ${notReady.binding} of flow ${flow} is not ready${notReady.ready?.message ? `: ${notReady.ready.message}` : ""}`,
    };
  }
  return {
    ok: true,
    steps: steps.map(({ binding, stage, order, intent, whenNoDevice }) => ({
      binding,
      stage,
      order,
      intent,
      whenNoDevice,
    })),
  };
}

/** The hosted pages' settings of a flow, gathered from its bindings. */
export interface FlowPages {
  /** Every binding's entries: each binding's owner may name where the flow returns to. */
  allowedReturnTo: string[];
  /** The branding ConfigMap of the first binding (by order, then name) that names one. */
  brandingConfigMap?: string;
}

export function flowPages(flow: string, bindings: readonly BindingObject[]): FlowPages {
  const mine = bindings
    .map((b) => ({ name: b.metadata?.name ?? "", spec: flowBindingSpec.safeParse(b.spec) }))

    .flatMap((b) => (b.spec.success && b.spec.data.flow === flow ? [{ name: b.name, spec: b.spec.data }] : []))
    .sort((a, b) => a.spec.order - b.spec.order || a.name.localeCompare(b.name));
  const allowed = [...new Set(mine.flatMap((b) => b.spec.pages?.allowedReturnTo ?? []))];
  const branding = mine.find((b) => b.spec.pages?.brandingRef)?.spec.pages?.brandingRef?.name;
  return { allowedReturnTo: allowed, ...(branding ? { brandingConfigMap: branding } : {}) };
}
