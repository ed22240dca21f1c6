// EmailDevice: the generic status reconciler, gathering its stage and the user's other devices
// for the same stage from the caches.
import { emailDeviceSpec, type EmailDeviceSpec, type EmailDeviceStatus } from "../../kinds/v1alpha1/emaildevice.ts";
import type { CustomObjectsApi } from "@kubernetes/client-node";
import type { Clock, CustomObject, ObjectCache } from "@emailauth/operator-runtime";
import { EMAIL_DEVICES } from "../../k8s/custom-objects.ts";
import { createdAt } from "../missing-stage.ts";
import { apiWrites, type ObjectWrites } from "../object-writes.ts";
import { type StatusKind, StatusReconciler } from "../status-reconciler.ts";
import { type EmailDeviceInput, planEmailDevice } from "./policy.ts";

export type EmailDeviceObject = CustomObject<EmailDeviceSpec, EmailDeviceStatus>;

export interface EmailDeviceCaches {
  devices: ObjectCache<CustomObject<unknown, EmailDeviceStatus>>;
  stages: ObjectCache<CustomObject>;
}

/** Devices for one stage and user, read loosely: a device with an unreadable spec still counts. */
export function sameStageAndUser(a: CustomObject, b: CustomObject): boolean {
  const s = (o: CustomObject) => o.spec as { stageRef?: { name?: string }; user?: { id?: string } } | undefined;
  return s(a)?.stageRef?.name === s(b)?.stageRef?.name && s(a)?.user?.id === s(b)?.user?.id;
}

export function emailDeviceKind(
  c: EmailDeviceCaches,
): StatusKind<EmailDeviceSpec, EmailDeviceStatus, EmailDeviceInput> {
  return {
    resource: EMAIL_DEVICES,
    objects: c.devices,
    spec: emailDeviceSpec,
    gather(device, req) {
      const stage = c.stages.get(req.namespace, device.spec.stageRef.name);
      const sameUser = c.devices
        .list(req.namespace)
        .filter((d) => d.metadata?.name !== req.name && !d.metadata?.deletionTimestamp && sameStageAndUser(d, device))
        .map((d) => d.metadata?.name ?? "");
      const created = createdAt(device.metadata);
      return {
        namespace: req.namespace,
        name: req.name,
        spec: device.spec,
        ...(created ? { createdAt: created } : {}),
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
