// An EmailDevice's status. A device outlives its stage (it is the user's enrolment): it then
// says so and works again if the stage is re-created. A declared device that is not confirmed
// yet is a finished declaration waiting for its user, not work in progress: Ready (Current for
// kstatus) with reason Pending, and Confirmed=False until a Setup flow proves the address.
// Two devices for one user and stage are Stalled: which one to use would be a guess.
import type { EmailDeviceSpec, EmailDeviceStatus } from "../../kinds/v1alpha1/emaildevice.ts";
import type { Readiness } from "@emailauth/operator-runtime";
import { missingStage } from "../missing-stage.ts";
import type { StatusDecision } from "../status.ts";

export const CONFIRMED = "Confirmed";

export interface EmailDeviceInput {
  namespace: string;
  name: string;
  spec: EmailDeviceSpec;
  createdAt?: Date;
  status?: EmailDeviceStatus;
  stageExists: boolean;
  /** The other devices (not being deleted) for the same stage and user. */
  sameUser: string[];
}

export function planEmailDevice(input: EmailDeviceInput, now: Date): StatusDecision<EmailDeviceStatus> {
  const { namespace, name, spec } = input;
  const stage = `EmailAuthenticatorStage ${namespace}/${spec.stageRef.name}`;
  const { confirmedAt, lastUsedAt } = input.status ?? {};
  const fields = { ...(confirmedAt ? { confirmedAt } : {}), ...(lastUsedAt ? { lastUsedAt } : {}) };
  const confirmed = spec.confirmed
    ? { type: CONFIRMED, status: "True" as const, reason: "Confirmed", message: "the address is confirmed" }
    : {
        type: CONFIRMED,
        status: "False" as const,
        reason: "Pending",
        message: "the user has not proven the address with a code yet",
      };
  const decide = (readiness: Readiness, requeueAfterMs?: number): StatusDecision<EmailDeviceStatus> => ({
    readiness,
    conditions: [confirmed],
    fields,
    ...(requeueAfterMs === undefined ? {} : { requeueAfterMs }),
  });

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
  return spec.confirmed
    ? decide({ ready: { reason: "Confirmed", message: `the address is confirmed for ${stage}` } })
    : decide({
        ready: {
          reason: "Pending",
          message: `declared for ${stage} and waiting for the user to confirm the address with a code in a Setup flow; it cannot be used to authenticate until then`,
        },
      });
}
