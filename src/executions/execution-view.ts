// How an execution is answered: the record as its audience may see it (the application sees a
// decoy as the denial it is; the end user sees neither a denial's reason nor a decoy), when a
// resend becomes possible, and a failed send as the refusal that carries the execution.
import type { SmtpSendReason } from "../email/mailer.ts";
import type { StageDirectory } from "../stage/stage-directory.ts";
import type { ExecutionOutcome, ExecutionSnapshot } from "./outcomes.ts";
import type { ExecutionData, Stored } from "./types.ts";

/** The stages as these answers read them: codeLength and the resend cooldown. */
export type StageSpecs = Pick<StageDirectory, "get">;

const DEFAULT_CODE_LENGTH = 6;
const DEFAULT_COOLDOWN_SECONDS = 60;
/** What the end user sees of a denial: that the flow cannot go on, not why. */
const END_USER_DENIAL = { code: "denied", detail: "this sign-in cannot continue" };

/** Where a step left the execution: moved on, or waiting for a resend after a failed send. */
export interface Progress {
  stored: Stored<ExecutionData>;
  failed?: SmtpSendReason;
}

/** The answer to a step; `user`: the end user's side asked. The secrets only a start hands out. */
export function answer(
  stages: StageSpecs,
  progress: Progress,
  user: boolean,
  secrets: { token?: string; launchToken?: string } = {},
): ExecutionOutcome {
  const execution = snapshot(stages, progress.stored.data, user);
  if (progress.failed)
    return {
      ok: false,
      error: { kind: "send_failed", ...(user ? {} : { reason: progress.failed }), execution, ...secrets },
    };
  return { ok: true, execution, ...secrets };
}

/** The record as this audience may see it. */
export function snapshot(stages: StageSpecs, stored: ExecutionData, user: boolean): ExecutionSnapshot {
  const spec = stages.get(stored.namespace, stored.stage)?.spec;
  let record = stored;
  if (stored.decoy && !user)
    record = { ...stored, state: "denied", denial: stored.decoy, challenge: undefined, address: undefined };
  else if (stored.denial && user) record = { ...stored, denial: END_USER_DENIAL };
  return {
    record: { ...record, decoy: undefined },
    codeLength: spec?.codeLength ?? DEFAULT_CODE_LENGTH,
    resendAvailableAt: resendAvailableAt(stages, stored),
  };
}

export function resendAvailableAt(stages: StageSpecs, e: ExecutionData): Date {
  // A failed send starts no cooldown: without a send on record a resend is possible at once.
  if (!e.lastSentAt) return new Date(e.createdAt);
  const cooldown = stages.get(e.namespace, e.stage)?.spec.limits.resendCooldownSeconds;
  return new Date(Date.parse(e.lastSentAt) + (cooldown ?? DEFAULT_COOLDOWN_SECONDS) * 1000);
}
