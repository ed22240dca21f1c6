// What happens when an execution reaches a binding: send a code to a known address, ask for
// one, or deny. Pure; the caller looks the device up and acts on the answer.
import type { FlowStep } from "../flows/flow.ts";
import type { ExecutionUser } from "./types.ts";

export type StepEntry =
  | { kind: "send"; mode: "Setup" | "Authenticate"; address: string; device?: string }
  | { kind: "ask_email" }
  | { kind: "deny"; code: "no_device" | "device_exists"; detail: string };

export interface KnownDevice {
  name: string;
  email: string;
}

/** `configureFlow`: the stage's flow that sets the authenticator up, named in a no_device denial. */
export function enterStep(
  step: FlowStep,
  user: ExecutionUser,
  device: KnownDevice | undefined,
  configureFlow?: string,
): StepEntry {
  if (step.intent === "Authenticate") {
    if (device) return { kind: "send", mode: "Authenticate", address: device.email, device: device.name };
    if (step.whenNoDevice === "Deny")
      return {
        kind: "deny",
        code: "no_device",
        detail: `the user has no confirmed email device for stage ${step.stage}${configureFlow ? `; flow ${configureFlow} sets one up` : ""}`,
      };
  } else if (device) {
    // As authentik: setting up a second address for the same stage is refused, not merged.
    return {
      kind: "deny",
      code: "device_exists",
      detail: `the user already has an email device for stage ${step.stage}`,
    };
  }
  return user.email ? { kind: "send", mode: "Setup", address: user.email } : { kind: "ask_email" };
}
