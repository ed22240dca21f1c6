// Deletes a stage's EmailDevices, for deviceDeletionPolicy Delete. Read from the API server, not
// the cache, so a device created a moment ago is not missed; each delete is preconditioned on
// the uid it was listed with, so a device re-created under the same name meanwhile survives.
import type { CustomObjectsApi } from "@emailauth/operator-runtime";
import { isNotFound } from "@emailauth/operator-runtime";
import type { EmailDeviceObject } from "../../kinds/v1alpha1/objects.ts";
import { EMAIL_DEVICES } from "../../k8s/custom-objects.ts";

export type DeleteStageDevices = (namespace: string, stage: string) => Promise<number>;

export function stageDeviceDeleter(custom: CustomObjectsApi): DeleteStageDevices {
  const at = { group: EMAIL_DEVICES.group, version: EMAIL_DEVICES.version, plural: EMAIL_DEVICES.plural };
  return async (namespace, stage) => {
    let items: EmailDeviceObject[];
    try {
      items = ((await custom.listNamespacedCustomObject({ ...at, namespace })) as { items: EmailDeviceObject[] }).items;
    } catch (e) {
      if (isNotFound(e)) return 0; // the EmailDevice CRD itself is gone, and every device with it
      throw e;
    }
    let deleted = 0;
    for (const device of items) {
      if (device.spec?.stageRef?.name !== stage || device.metadata?.deletionTimestamp) continue;
      try {
        await custom.deleteNamespacedCustomObject({
          ...at,
          namespace,
          name: device.metadata?.name ?? "",
          body: { preconditions: { uid: device.metadata?.uid } },
        });
        deleted++;
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
    }
    return deleted;
  };
}
