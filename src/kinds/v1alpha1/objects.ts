// Our kinds as the informer caches hold them: decoded once on arrival, with the spec read by
// the kind's schema (defaults applied) and the status typed. An object whose spec the schema
// refuses stays out of the typed cache (the runtime keeps it apart so a controller can report
// it); a status that does not match is treated as absent, since the controller rewrites it.
import type { z } from "zod";
import type { CustomObject, DecodeFunction } from "@emailauth/operator-runtime";
import { emailDeviceSpec, type EmailDeviceSpec, emailDeviceStatus, type EmailDeviceStatus } from "./emaildevice.ts";
import { flowBindingSpec, type FlowBindingSpec, flowBindingStatus, type FlowBindingStatus } from "./flowbinding.ts";
import { stageSpec, type StageSpec, stageStatus, type StageStatus } from "./stage.ts";

/** A custom object whose spec has been decoded. */
export type Typed<Spec, Status> = CustomObject<Spec, Status> & { spec: Spec };

export type StageObject = Typed<StageSpec, StageStatus>;
export type FlowBindingObject = Typed<FlowBindingSpec, FlowBindingStatus>;
export type EmailDeviceObject = Typed<EmailDeviceSpec, EmailDeviceStatus>;

/** Decodes spec and status with the kind's schemas; problems are paths and messages, never values. */
export function kindDecoder<Spec, Status>(
  spec: z.ZodType<Spec>,
  status: z.ZodType<Status>,
): DecodeFunction<Typed<Spec, Status>> {
  return (raw) => {
    const { spec: rawSpec, status: rawStatus } = raw as { spec?: unknown; status?: unknown };
    const parsed = spec.safeParse(rawSpec ?? {});
    if (!parsed.success)
      return new Error(
        parsed.error.issues.map((i) => `${["spec", ...i.path.map(String)].join(".")}: ${i.message}`).join("; "),
      );
    const object: Typed<Spec, Status> = { ...(raw as Omit<CustomObject, "status">), spec: parsed.data };
    delete (object as CustomObject).status;
    const decodedStatus = rawStatus === undefined ? undefined : status.safeParse(rawStatus);
    if (decodedStatus?.success) object.status = decodedStatus.data;
    return object;
  };
}

export const decodeStage = kindDecoder(stageSpec, stageStatus);
export const decodeFlowBinding = kindDecoder(flowBindingSpec, flowBindingStatus);
export const decodeEmailDevice = kindDecoder(emailDeviceSpec, emailDeviceStatus);
