// EmailDevice: one user's address for one stage, created by the API after a verified code or
// declared through GitOps. Identity fields are immutable: a new address needs a new device.
import { z } from "zod";
import { displayText, emailAddress, immutable, localObjectRef, statusBase } from "./common.ts";

export const deviceUser = z.strictObject({
  id: immutable(displayText(256).min(1), "user.id").meta({ description: "The user's id in the calling application." }),
  name: displayText(256).optional(),
});

export const emailDeviceSpec = z.strictObject({
  stageRef: immutable(localObjectRef, "stageRef"),
  user: deviceUser,
  email: immutable(emailAddress, "email").meta({ description: "Normalised address (IDN domain in punycode)." }),
  confirmed: z.boolean().default(false).meta({ description: "Only confirmed devices can be used to authenticate." }),
});
export type EmailDeviceSpec = z.output<typeof emailDeviceSpec>;

export const emailDeviceStatus = z.strictObject({
  ...statusBase,
  confirmedAt: z.iso.datetime().optional(),
  lastUsedAt: z.iso.datetime().optional(),
});
export type EmailDeviceStatus = z.output<typeof emailDeviceStatus>;
