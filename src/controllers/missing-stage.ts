// A FlowBinding or EmailDevice whose stage does not exist. GitOps tools apply a stage and what
// refers to it together, and the operator's informers may deliver them in either order, so a
// new object waits briefly (progress); after that only a user can end the state (Stalled).
import type { Readiness } from "@emailauth/operator-runtime";

/** How long a new object waits for its stage before it is Stalled. */
export const STAGE_GRACE_MS = 15_000;

export function missingStage(
  createdAt: Date | undefined,
  now: Date,
  stage: string,
  stalledMessage: string,
): { readiness: Readiness; requeueAfterMs?: number } {
  const left = createdAt ? createdAt.getTime() + STAGE_GRACE_MS - now.getTime() : 0;
  if (left > 0)
    return {
      readiness: { reconciling: { reason: "StageNotFound", message: `${stage} does not exist yet` } },
      requeueAfterMs: left,
    };
  return { readiness: { stalled: { reason: "StageNotFound", message: stalledMessage } } };
}

/** metadata.creationTimestamp as the API returns it (a string) or client-node's typed form (a Date). */
export function createdAt(metadata: object | undefined): Date | undefined {
  const t = (metadata as { creationTimestamp?: unknown } | undefined)?.creationTimestamp;
  const d = typeof t === "string" || t instanceof Date ? new Date(t) : undefined;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}
