// The stage's and the device's relations by scanning in-memory caches, for reconciler unit tests; the operator
// keeps indexes instead (src/operator/related-objects.ts), tested against the same questions.
import type { ObjectCache } from "@emailauth/operator-runtime";
import type { EmailDeviceObject, FlowBindingObject } from "../../kinds/v1alpha1/objects.ts";
import type { DeviceRelations } from "../emaildevice/reconciler.ts";
import type { StageRelations } from "../stage/reconciler.ts";

export function scanRelations(
  bindings: ObjectCache<FlowBindingObject>,
  devices: ObjectCache<EmailDeviceObject>,
): StageRelations {
  return {
    bindingsOfStage: (namespace, stage) => bindings.list(namespace).filter((b) => b.spec.stageRef.name === stage),
    bindingsOfFlow: (namespace, flow) => bindings.list(namespace).filter((b) => b.spec.flow === flow),
    deviceCount: (namespace, stage) => devices.list(namespace).filter((d) => d.spec.stageRef.name === stage).length,
  };
}

export function scanDeviceRelations(devices: ObjectCache<EmailDeviceObject>): DeviceRelations {
  return {
    devicesOfUser: (namespace, stage, userId) =>
      devices.list(namespace).filter((d) => d.spec.stageRef.name === stage && d.spec.user.id === userId),
  };
}
