// An EmailDevice's conditions as the device reconciler reports them, and the first status of a
// device a Setup flow creates. The flow writes that status itself, exactly as the reconciler
// would plan it, so the device gets one status write and the reconciler, finding it equal,
// writes nothing (controllers/emaildevice/policy.ts holds off a new device's first status for
// its creator; a test there proves the two agree).
import {
  type ConditionUpdate,
  formatTime,
  type Readiness,
  readinessConditions,
  setCondition,
} from "@emailauth/operator-runtime";
import type { EmailDeviceStatus } from "../kinds/v1alpha1/emaildevice.ts";

export const CONFIRMED = "Confirmed";

/** The Confirmed condition, from spec.confirmed. */
export function confirmedCondition(confirmed: boolean): Omit<ConditionUpdate, "observedGeneration"> {
  return confirmed
    ? { type: CONFIRMED, status: "True", reason: "Confirmed", message: "the address is confirmed" }
    : {
        type: CONFIRMED,
        status: "False",
        reason: "Pending",
        message: "the user has not proven the address with a code yet",
      };
}

/** "EmailAuthenticatorStage ns/name", as messages name the stage. */
export function stageName(namespace: string, stage: string): string {
  return `EmailAuthenticatorStage ${namespace}/${stage}`;
}

/** Ready for a device whose stage exists and that has no duplicate. */
export function settledReadiness(confirmed: boolean, stage: string): Readiness {
  return confirmed
    ? { ready: { reason: "Confirmed", message: `the address is confirmed for ${stage}` } }
    : {
        ready: {
          reason: "Pending",
          message: `declared for ${stage} and waiting for the user to confirm the address with a code in a Setup flow; it cannot be used to authenticate until then`,
        },
      };
}

/** The status of a device just created confirmed by a Setup flow at `now`, at its first generation. */
export function firstConfirmedStatus(
  namespace: string,
  stage: string,
  generation: number,
  now: Date,
): EmailDeviceStatus {
  const at = formatTime(now);
  const conditions = setCondition(
    readinessConditions({ generation, ...settledReadiness(true, stageName(namespace, stage)) }, now),
    { ...confirmedCondition(true), observedGeneration: generation },
    now,
  );
  return { confirmedAt: at, lastUsedAt: at, observedGeneration: generation, conditions };
}
