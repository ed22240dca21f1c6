// A kind's status from a pure decision: the Ready/Reconciling/Stalled triple, any further
// conditions the kind reports, and its other status fields. Shared by every reconciler so
// each writes status.observedGeneration and its conditions the same way.
import {
  type Condition,
  type ConditionUpdate,
  type Readiness,
  readinessConditions,
  setCondition,
} from "@emailauth/operator-runtime";

/** What a policy decides; the caller adds the generation and the previous conditions. */
export interface StatusDecision<Fields extends object = Record<string, unknown>> {
  readiness: Readiness;
  /** Conditions besides the triple (informational: they never change what kstatus reads). */
  conditions?: readonly Omit<ConditionUpdate, "observedGeneration">[];
  /** The other status fields, replacing the previous ones. */
  fields?: Fields;
  /** Look again after this long even if nothing changes (a grace period that ends). */
  requeueAfterMs?: number;
  /**
   * Write nothing yet and look again after this long: another writer (the one that created the
   * object) is about to write this status, and a second write would only conflict with it.
   */
  waitMs?: number;
}

export interface ComposedStatus {
  observedGeneration: number;
  conditions: Condition[];
}

const TRIPLE = ["Ready", "Reconciling", "Stalled"];

/**
 * The status for `decision` at `generation`. Conditions keep their position and their
 * lastTransitionTime while their status holds; condition types the decision no longer names
 * are dropped (our kinds' conditions are all ours).
 */
export function composeStatus<Fields extends object>(
  generation: number,
  previous: readonly Condition[] | undefined,
  decision: StatusDecision<Fields>,
  now: Date,
): ComposedStatus & Partial<Fields> {
  const extra = decision.conditions ?? [];
  const wanted = new Set([...TRIPLE, ...extra.map((c) => c.type)]);
  let conditions = readinessConditions(
    { generation, ...decision.readiness },
    now,
    (previous ?? []).filter((c) => wanted.has(c.type)),
  );
  for (const c of extra) conditions = setCondition(conditions, { ...c, observedGeneration: generation }, now);
  return { ...decision.fields, observedGeneration: generation, conditions } as ComposedStatus & Partial<Fields>;
}

/** zod's issues as one line a human can act on: paths and messages, never values. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.map((i) => `${i.path.map(String).join(".") || "spec"}: ${i.message}`).join("; ");
}
