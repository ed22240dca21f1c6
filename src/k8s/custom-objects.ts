// Where each kind lives in the API, for the generic custom-object calls.
import { GROUP, VERSION } from "../api/v1alpha1/common.ts";
import { emailDeviceKind, flowBindingKind, stageKind } from "../api/v1alpha1/kinds.ts";

export interface CustomResource {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

const custom = (kind: { kind: string; plural: string }): CustomResource => ({
  group: GROUP,
  version: VERSION,
  plural: kind.plural,
  kind: kind.kind,
});

export const STAGES = custom(stageKind);
export const FLOW_BINDINGS = custom(flowBindingKind);
export const EMAIL_DEVICES = custom(emailDeviceKind);

/** The parts of an object every controller reads. */
export interface ObjectMeta {
  namespace?: string;
  name?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  deletionTimestamp?: Date | string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface CustomObject<Spec = unknown, Status = unknown> {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: Spec;
  status?: Status;
}
