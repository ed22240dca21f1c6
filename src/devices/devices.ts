// Saved addresses: find a user's confirmed device for a stage, and create or confirm one when
// a code was verified. One device per user and stage, matched by stage and user, not by name:
// a device this operator creates is named from both, so two replicas completing at once
// converge on one object (the second create gets AlreadyExists); a declared one keeps its name.
import { createHash } from "node:crypto";
import type { CustomObjectsApi } from "@emailauth/operator-runtime";
import { API_VERSION } from "../kinds/v1alpha1/common.ts";
import type { EmailDeviceSpec, EmailDeviceStatus } from "../kinds/v1alpha1/emaildevice.ts";
import { MANAGED_BY, STAGE_LABEL } from "../kinds/labels.ts";
import { isAlreadyExists } from "@emailauth/operator-runtime";
import { type CustomObject } from "@emailauth/operator-runtime";
import { EMAIL_DEVICES } from "../k8s/custom-objects.ts";
import { firstConfirmedStatus } from "./device-status.ts";
import { formatTime } from "@emailauth/operator-runtime";

export type DeviceObject = CustomObject<EmailDeviceSpec, EmailDeviceStatus>;

/**
 * One user's devices for one stage, whatever their names, from an index the informers keep: a
 * sign-in costs that user's devices, not a scan of every device in the namespace.
 */
export interface UserDevices {
  of(namespace: string, stage: string, userId: string): readonly DeviceObject[];
}

/** Raced with another enrolment of the same user and stage for a different address. */
export class DeviceExistsError extends Error {
  override readonly name = "DeviceExistsError";
}

/** `<stage>-<hash>`: no user id or address in the name. */
export function deviceName(stage: string, userId: string): string {
  const hash = createHash("sha256").update(`${stage}\0${userId}`).digest("hex").slice(0, 20);
  return `${stage.slice(0, 200).replace(/[.-]+$/, "")}-${hash}`;
}

/**
 * Every device (not being deleted) for one user and stage, whatever its name: an EmailDevice
 * declared through GitOps counts as much as one this operator created.
 */
export function deviceCandidates(
  devices: UserDevices,
  namespace: string,
  stage: string,
  userId: string,
): DeviceObject[] {
  return devices.of(namespace, stage, userId).filter((d) => !d.metadata?.deletionTimestamp);
}

/**
 * The user's confirmed device for the stage, only when it is the one device they have there:
 * with two (reported Stalled as DuplicateDevice) the step denies rather than pick one.
 */
export function findConfirmedDevice(
  devices: UserDevices,
  namespace: string,
  stage: string,
  userId: string,
): DeviceObject | undefined {
  const [only, ...more] = deviceCandidates(devices, namespace, stage, userId);
  return only?.spec?.confirmed && more.length === 0 ? only : undefined;
}

export interface ConfirmInput {
  namespace: string;
  stage: string;
  user: { id: string; name?: string };
  address: string;
  now: Date;
  /** The user's devices: one declared under any name for this user and stage is the one confirmed. */
  devices: UserDevices;
}

/** A device a Setup flow saved, and its status write still to make. */
export interface ConfirmedDevice {
  name: string;
  /**
   * Writes the device's status (its first, or confirmedAt and lastUsedAt). Nothing else waits
   * for it, so the caller makes it alongside its own write.
   */
  writeStatus: () => Promise<void>;
}

/** Creates the device confirmed, or confirms the user's existing one for this address. */
export async function confirmDevice(api: CustomObjectsApi, input: ConfirmInput): Promise<ConfirmedDevice> {
  const candidates = deviceCandidates(input.devices, input.namespace, input.stage, input.user.id);
  if (candidates.length > 1)
    throw new DeviceExistsError(
      `the user has ${candidates.length} email devices for stage ${input.stage}; all but one must be deleted first`,
    );
  const declared = candidates[0];
  if (declared && declared.metadata?.name !== deviceName(input.stage, input.user.id))
    return confirmDeclared(api, input, declared);
  const name = deviceName(input.stage, input.user.id);
  const at = {
    group: EMAIL_DEVICES.group,
    version: EMAIL_DEVICES.version,
    plural: EMAIL_DEVICES.plural,
    namespace: input.namespace,
  };
  const spec: EmailDeviceSpec = {
    stageRef: { name: input.stage },
    user: { id: input.user.id, ...(input.user.name ? { name: input.user.name } : {}) },
    email: input.address,
    confirmed: true,
  };
  const create = () =>
    api.createNamespacedCustomObject({
      ...at,
      body: {
        apiVersion: API_VERSION,
        kind: EMAIL_DEVICES.kind,
        metadata: { name, labels: { ...MANAGED_BY, [STAGE_LABEL]: input.stage } },
        spec,
      },
      fieldValidation: "Strict",
    });
  let created: DeviceObject | undefined;
  try {
    created = (await create()) as DeviceObject;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    const existing = (await api.getNamespacedCustomObject({ ...at, name })) as DeviceObject;
    if (existing.spec?.email === input.address) {
      // A pending device (declared, or from an earlier attempt) for the address just proven.
      if (!existing.spec.confirmed) {
        await api.patchNamespacedCustomObject({
          ...at,
          name,
          body: { metadata: { resourceVersion: existing.metadata?.resourceVersion }, spec: { confirmed: true } },
        });
      }
    } else if (!existing.spec?.confirmed) {
      // A pending device for another address: the proven one replaces it (addresses are immutable).
      await api.deleteNamespacedCustomObject({
        ...at,
        name,
        body: { preconditions: { uid: existing.metadata?.uid, resourceVersion: existing.metadata?.resourceVersion } },
      });
      created = (await create()) as DeviceObject;
    } else {
      throw new DeviceExistsError(`the user already has a confirmed email device for stage ${input.stage}`);
    }
  }
  if (created) {
    // The whole first status, as the device reconciler would write it (which leaves a device it
    // sees created by this flow alone meanwhile): one status write, no conflict.
    const generation = created.metadata?.generation ?? 1;
    const status = firstConfirmedStatus(input.namespace, input.stage, generation, input.now);
    return { name, writeStatus: () => writeStatus(api, input.namespace, name, status) };
  }
  return { name, writeStatus: () => markUsed(api, input.namespace, name, input.now, true) };
}

/**
 * A device declared under a name of its own (GitOps): confirmed in place when it is for the
 * proven address, never replaced, since its manifest would only bring it back beside the new one.
 */
async function confirmDeclared(
  api: CustomObjectsApi,
  input: ConfirmInput,
  device: DeviceObject,
): Promise<ConfirmedDevice> {
  const name = device.metadata?.name ?? "";
  if (device.spec?.email !== input.address)
    throw new DeviceExistsError(
      device.spec?.confirmed
        ? `the user already has a confirmed email device for stage ${input.stage}`
        : `the email device declared for the user and stage ${input.stage} is for another address`,
    );
  if (!device.spec.confirmed)
    await api.patchNamespacedCustomObject({
      group: EMAIL_DEVICES.group,
      version: EMAIL_DEVICES.version,
      plural: EMAIL_DEVICES.plural,
      namespace: input.namespace,
      name,
      body: { metadata: { resourceVersion: device.metadata?.resourceVersion }, spec: { confirmed: true } },
    });
  return { name, writeStatus: () => markUsed(api, input.namespace, name, input.now, true) };
}

/** Records when the device was last used (and first confirmed) in its status. */
export async function markUsed(
  api: CustomObjectsApi,
  namespace: string,
  name: string,
  now: Date,
  confirmed = false,
): Promise<void> {
  const at = formatTime(now);
  await writeStatus(api, namespace, name, { lastUsedAt: at, ...(confirmed ? { confirmedAt: at } : {}) });
}

/**
 * A merge patch of the fields given, without a resourceVersion: the times are the flow's alone
 * (the reconciler keeps them as they are), and a first status is left to the flow, so a
 * concurrent change need not refuse them.
 */
async function writeStatus(
  api: CustomObjectsApi,
  namespace: string,
  name: string,
  status: Partial<EmailDeviceStatus>,
): Promise<void> {
  await api.patchNamespacedCustomObjectStatus({
    group: EMAIL_DEVICES.group,
    version: EMAIL_DEVICES.version,
    plural: EMAIL_DEVICES.plural,
    namespace,
    name,
    body: { status },
  });
}
