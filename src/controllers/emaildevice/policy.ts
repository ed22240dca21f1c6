// An EmailDevice's status: usable when its stage exists and the address is confirmed. A device
// outlives its stage (it is the user's enrolment); it then says so and works again if the stage
// is re-created.
import type { EmailDeviceSpec, EmailDeviceStatus } from "../../kinds/v1alpha1/emaildevice.ts";
import { readinessConditions, statusEqual, type Readiness } from "@emailauth/operator-runtime";

export interface EmailDeviceInput {
  namespace: string;
  generation: number;
  spec: EmailDeviceSpec;
  status?: EmailDeviceStatus;
  stageExists: boolean;
}

export function planEmailDevice(input: EmailDeviceInput, now: Date): { status: EmailDeviceStatus; changed: boolean } {
  const stage = `EmailAuthenticatorStage ${input.namespace}/${input.spec.stageRef.name}`;
  const readiness: Readiness = !input.stageExists
    ? {
        stalled: {
          reason: "StageNotFound",
          message: `${stage} does not exist; the device is kept and is usable again if the stage is re-created`,
        },
      }
    : input.spec.confirmed
      ? { ready: { reason: "Confirmed", message: `the address is confirmed for ${stage}` } }
      : { reconciling: { reason: "Pending", message: "waiting for the user to confirm the address with a code" } };
  const { confirmedAt, lastUsedAt } = input.status ?? {};
  const status: EmailDeviceStatus = {
    observedGeneration: input.generation,
    conditions: readinessConditions({ generation: input.generation, ...readiness }, now, input.status?.conditions),
    ...(confirmedAt ? { confirmedAt } : {}),
    ...(lastUsedAt ? { lastUsedAt } : {}),
  };
  return { status, changed: !statusEqual(status, input.status ?? {}) };
}
