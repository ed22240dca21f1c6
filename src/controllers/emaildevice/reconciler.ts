// EmailDevice: reports whether its stage exists and the address is confirmed.
import type { CustomObjectsApi } from "@kubernetes/client-node";
import { emailDeviceSpec, type EmailDeviceSpec, type EmailDeviceStatus } from "../../kinds/v1alpha1/emaildevice.ts";
import { type CustomObject } from "@emailauth/operator-runtime";
import { EMAIL_DEVICES } from "../../k8s/custom-objects.ts";
import { writeStatus } from "@emailauth/operator-runtime";
import type { Clock } from "@emailauth/operator-runtime";
import type { ObjectCache } from "@emailauth/operator-runtime";
import type { Reconciler, Request, Result } from "@emailauth/operator-runtime";
import { planEmailDevice } from "./policy.ts";

export type EmailDeviceObject = CustomObject<EmailDeviceSpec, EmailDeviceStatus>;

export interface EmailDeviceReconcilerDeps {
  devices: ObjectCache<EmailDeviceObject>;
  stages: ObjectCache<CustomObject>;
  custom: CustomObjectsApi;
  clock: Clock;
}

export class EmailDeviceReconciler implements Reconciler {
  readonly #d: EmailDeviceReconcilerDeps;

  constructor(deps: EmailDeviceReconcilerDeps) {
    this.#d = deps;
  }

  async reconcile(req: Request): Promise<Result> {
    const d = this.#d;
    const device = d.devices.get(req.namespace, req.name);
    if (!device || device.metadata?.deletionTimestamp) return {};
    const spec = emailDeviceSpec.parse(device.spec);
    const stage = d.stages.get(req.namespace, spec.stageRef.name);
    const plan = planEmailDevice(
      {
        namespace: req.namespace,
        generation: device.metadata?.generation ?? 0,
        spec,
        ...(device.status ? { status: device.status } : {}),
        stageExists: stage !== undefined && !stage.metadata?.deletionTimestamp,
      },
      d.clock.now(),
    );
    if (plan.changed) {
      const rv = device.metadata?.resourceVersion ?? "";
      await writeStatus(
        d.custom,
        { resource: EMAIL_DEVICES, namespace: req.namespace, name: req.name, resourceVersion: rv },
        device.status,
        plan.status,
      );
    }
    return {};
  }
}
