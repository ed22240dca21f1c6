// An EmailDevice's status. A device outlives its stage (it is the user's enrolment): it then
// says so and works again if the stage is re-created. A declared device that is not confirmed
// yet is a finished declaration waiting for its user, not work in progress: Ready (Current for
// kstatus) with reason Pending, and Confirmed=False until a Setup flow proves the address.
// Two devices for one user and stage are Stalled: which one to use would be a guess.
// A device a Setup flow has just created gets its first status from that flow (one writer, no
// conflicting write): the reconciler leaves a new device without status alone for a while.
import type { EmailDeviceSpec, EmailDeviceStatus } from "../../kinds/v1alpha1/emaildevice.ts";
import type { Readiness } from "@emailauth/operator-runtime";
import { confirmedCondition, settledReadiness, stageName } from "../../devices/device-status.ts";
import { missingStage } from "../missing-stage.ts";
import type { StatusDecision } from "../status.ts";

/** How long a device this operator created waits for the first status its Setup flow writes. */
export const FIRST_STATUS_GRACE_MS = 10_000;

export interface EmailDeviceInput {
  namespace: string;
  name: string;
  spec: EmailDeviceSpec;
  createdAt?: Date;
  status?: EmailDeviceStatus;
  /** Created by this operator's Setup flow (its managed-by label), which writes the first status. */
  createdByFlow?: boolean;
  stageExists: boolean;
  /** The other devices (not being deleted) for the same stage and user. */
  sameUser: string[];
}

export function planEmailDevice(input: EmailDeviceInput, now: Date): StatusDecision<EmailDeviceStatus> {
  const { namespace, name, spec } = input;
  const stage = stageName(namespace, spec.stageRef.name);
  const { confirmedAt, lastUsedAt } = input.status ?? {};
  const fields = { ...(confirmedAt ? { confirmedAt } : {}), ...(lastUsedAt ? { lastUsedAt } : {}) };
  const decide = (readiness: Readiness, requeueAfterMs?: number): StatusDecision<EmailDeviceStatus> => ({
    readiness,
    conditions: [confirmedCondition(spec.confirmed)],
    fields,
    ...(requeueAfterMs === undefined ? {} : { requeueAfterMs }),
  });

  const waitMs = firstStatusWait(input, now);
  if (waitMs !== undefined) return { ...decide(settledReadiness(spec.confirmed, stage)), waitMs };
  if (input.sameUser.length) {
    const names = [name, ...input.sameUser].sort().join(", ");
    return decide({
      stalled: {
        reason: "DuplicateDevice",
        message: `EmailDevices ${names} are all for user ${spec.user.id} of ${stage}; a user has one device per stage, so none of them is used until all but one are deleted`,
      },
    });
  }
  if (!input.stageExists) {
    const missing = missingStage(
      input.createdAt,
      now,
      stage,
      `${stage} does not exist; the device is kept and is usable again if the stage is re-created`,
    );
    return decide(missing.readiness, missing.requeueAfterMs);
  }
  return decide(settledReadiness(spec.confirmed, stage));
}

/**
 * How long to leave a new device alone: created confirmed by a Setup flow, no status yet, and
 * younger than the grace. The flow writes the first status right after its create; writing it
 * here too would make two writes and a conflict. Should the flow fail, the grace ends and the
 * status is written here. Capped, so a clock behind the API server's cannot stretch it.
 */
function firstStatusWait(input: EmailDeviceInput, now: Date): number | undefined {
  if (!input.createdByFlow || !input.spec.confirmed || input.status?.observedGeneration !== undefined) return undefined;
  if (!input.createdAt) return undefined;
  const left = input.createdAt.getTime() + FIRST_STATUS_GRACE_MS - now.getTime();
  return left > 0 ? Math.min(left, FIRST_STATUS_GRACE_MS) : undefined;
}
