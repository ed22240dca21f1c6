// Where each of our kinds lives in the API, for the generic custom-object calls.
import type { CustomResource } from "@emailauth/operator-runtime";
import { GROUP, VERSION } from "../kinds/v1alpha1/common.ts";
import { emailDeviceKind, flowBindingKind, stageKind } from "../kinds/v1alpha1/kinds.ts";

const custom = (kind: { kind: string; plural: string }): CustomResource => ({
  group: GROUP,
  version: VERSION,
  plural: kind.plural,
  kind: kind.kind,
});

export const STAGES = custom(stageKind);
export const FLOW_BINDINGS = custom(flowBindingKind);
export const EMAIL_DEVICES = custom(emailDeviceKind);
