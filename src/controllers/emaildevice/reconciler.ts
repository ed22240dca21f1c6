// EmailDevice: the generic status reconciler, gathering its stage and the user's other devices
// for the same stage from the (typed) caches and their index.
import type { CustomObjectsApi } from "@emailauth/operator-runtime";
import type { Clock, ObjectCache } from "@emailauth/operator-runtime";
import type { EmailDeviceSpec, EmailDeviceStatus } from "../../kinds/v1alpha1/emaildevice.ts";
import type { EmailDeviceObject, StageObject } from "../../kinds/v1alpha1/objects.ts";
import { EMAIL_DEVICES } from "../../k8s/custom-objects.ts";
import { MANAGED_BY } from "../../kinds/labels.ts";
import { createdAt } from "../missing-stage.ts";
import { apiWrites, type ObjectWrites } from "../object-writes.ts";
import { type StatusKind, StatusReconciler } from "../status-reconciler.ts";
import { type EmailDeviceInput, planEmailDevice } from "./policy.ts";

export interface EmailDeviceCaches {
  devices: ObjectCache<EmailDeviceObject>;
  stages: ObjectCache<StageObject>;
  /** One user's devices for a stage, from an index kept over the device cache (no scan of the namespace). */
  related: DeviceRelations;
}

export interface DeviceRelations {
  devicesOfUser(namespace: string, stage: string, userId: string): EmailDeviceObject[];
}

export function emailDeviceKind(
  c: EmailDeviceCaches,
): StatusKind<EmailDeviceSpec, EmailDeviceStatus, EmailDeviceInput> {
  return {
    resource: EMAIL_DEVICES,
    objects: c.devices,
    gather(device, req) {
      const { stageRef, user } = device.spec;
      const stage = c.stages.get(req.namespace, stageRef.name);
      const sameUser = c.related
        .devicesOfUser(req.namespace, stageRef.name, user.id)
        .filter((d) => d.metadata?.name !== req.name && !d.metadata?.deletionTimestamp)
        .map((d) => d.metadata?.name ?? "");
      const created = createdAt(device.metadata);
      const labels = device.metadata?.labels ?? {};
      return {
        namespace: req.namespace,
        name: req.name,
        spec: device.spec,
        ...(created ? { createdAt: created } : {}),
        createdByFlow: Object.entries(MANAGED_BY).every(([k, v]) => labels[k] === v),
        ...(device.status ? { status: device.status } : {}),
        stageExists: stage !== undefined && !stage.metadata?.deletionTimestamp,
        sameUser,
      };
    },
    plan: planEmailDevice,
  };
}

export type EmailDeviceReconcilerDeps = EmailDeviceCaches & { clock: Clock } & (
    { writes: ObjectWrites } | { custom: CustomObjectsApi }
  );

export class EmailDeviceReconciler extends StatusReconciler<EmailDeviceSpec, EmailDeviceStatus, EmailDeviceInput> {
  constructor(deps: EmailDeviceReconcilerDeps) {
    super(emailDeviceKind(deps), {
      writes: "writes" in deps ? deps.writes : apiWrites(deps.custom),
      clock: deps.clock,
    });
  }
}
