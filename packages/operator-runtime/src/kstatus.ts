// What Flux's health checks conclude about one of our objects: a pure re-implementation of
// kstatus' Compute for custom resources (kubernetes-sigs/cli-utils pkg/kstatus/status,
// generic.go and status.go), with the step on the Ready condition that Flux applies. Used in
// tests to prove our status writes read as intended; not used at run time.

export type KStatus = "InProgress" | "Failed" | "Current" | "Terminating";

export interface KStatusResult {
  status: KStatus;
  reason?: string;
  message: string;
}

export interface KStatusCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** The fields kstatus reads; a custom object from the API or its client-node typed form. */
export interface KStatusObject {
  kind?: string;
  metadata?: { generation?: number; deletionTimestamp?: string | Date };
  status?: { observedGeneration?: number; conditions?: readonly KStatusCondition[] };
}

/**
 * Checks, in kstatus' order:
 * 1. a deletionTimestamp → Terminating;
 * 2. status.observedGeneration present and different from metadata.generation → InProgress
 *    (an absent observedGeneration skips this check, so a brand-new object with no status
 *    reads Current: controllers must write status on their first reconcile);
 * 3. the first of Reconciling=True (→ InProgress) or Stalled=True (→ Failed) in list order;
 * 4. Ready: True → Current, False or Unknown → InProgress;
 * 5. otherwise Current.
 */
export function computeKStatus(obj: KStatusObject): KStatusResult {
  if (obj.metadata?.deletionTimestamp) {
    return { status: "Terminating", message: "Resource scheduled for deletion" };
  }
  const generation = obj.metadata?.generation;
  const observed = obj.status?.observedGeneration;
  if (generation !== undefined && observed !== undefined && observed !== generation) {
    return {
      status: "InProgress",
      reason: "LatestGenerationNotObserved",
      message: `${obj.kind ?? "Resource"} generation is ${generation}, but latest observed generation is ${observed}`,
    };
  }
  const conditions = obj.status?.conditions ?? [];
  for (const c of conditions) {
    if (c.status !== "True") continue;
    if (c.type === "Reconciling") return fromCondition("InProgress", c);
    if (c.type === "Stalled") return fromCondition("Failed", c);
  }
  const ready = conditions.find((c) => c.type === "Ready");
  if (ready)
    return ready.status === "True"
      ? { status: "Current", message: "Resource is Ready" }
      : fromCondition("InProgress", ready);
  return { status: "Current", message: "Resource is current" };
}

function fromCondition(status: KStatus, c: KStatusCondition): KStatusResult {
  return { status, ...(c.reason ? { reason: c.reason } : {}), message: c.message ?? "" };
}
