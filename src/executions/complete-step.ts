// What a right code completes: the device is saved (Setup) or found (Authenticate), the consumed
// record is moved on to the next binding or completed (and signed), and the device's status is
// written alongside the record, since neither write depends on the other.
import type { Clock, CustomObjectsApi } from "@emailauth/operator-runtime";
import type { Logger } from "pino";
import { confirmDevice, DeviceExistsError, findConfirmedDevice, markUsed } from "../devices/devices.ts";
import { maskAddress } from "../email/address.ts";
import type { FlowStep } from "../flows/flow.ts";
import { enterBinding, type EntryDeps } from "./binding-entry.ts";
import { both } from "./both.ts";
import type { ExecutionRecords } from "./execution-records.ts";
import type { ExecutionData, Stored } from "./types.ts";

export interface CompleteStepDeps extends EntryDeps {
  custom: CustomObjectsApi;
  store: ExecutionRecords;
  clock: Clock;
  log: Logger;
  /** Signs the result of a completed execution (a compact JWS); none: no signed result. */
  signResult?: (completed: ExecutionData) => Promise<string>;
}

/**
 * After a right code: save the device (Setup), then write the consumed record moved on to the
 * next binding (or completed), guarded by `current`'s resourceVersion, and the device's status.
 */
export async function completeStep(
  d: CompleteStepDeps,
  current: Stored<ExecutionData>,
  consumed: ExecutionData,
  steps: FlowStep[],
): Promise<Stored<ExecutionData>> {
  const e = consumed;
  const now = d.clock.now();
  const address = e.address ?? "";
  let device: string;
  // The device's status write (Setup: its first; Authenticate: lastUsedAt) does not depend on
  // the record, so it goes alongside the record's write.
  let deviceStatus: (() => Promise<void>) | undefined;
  try {
    if (e.mode === "Setup") {
      const saved = await confirmDevice(d.custom, {
        namespace: e.namespace,
        stage: e.stage,
        user: e.user,
        address,
        now,
        devices: d.devices,
      });
      [device, deviceStatus] = [saved.name, saved.writeStatus];
    } else {
      device = findConfirmedDevice(d.devices, e.namespace, e.stage, e.user.id)?.metadata?.name ?? "";
      const used = device;
      if (used) deviceStatus = () => markUsed(d.custom, e.namespace, used, now);
    }
  } catch (err) {
    if (!(err instanceof DeviceExistsError)) throw err;
    return d.store.updateExecution(current, {
      ...e,
      state: "denied",
      denial: { code: "device_exists", detail: err.message },
    });
  }
  const [written] = await both(advance(d, current, e, steps, device, now), Promise.resolve(deviceStatus?.()));
  return written;
}

/** The consumed record, moved on to the next binding or completed (and signed), written. */
async function advance(
  d: CompleteStepDeps,
  current: Stored<ExecutionData>,
  e: ExecutionData,
  steps: FlowStep[],
  device: string,
  now: Date,
): Promise<Stored<ExecutionData>> {
  d.log.info({ namespace: e.namespace, execution: e.id, stage: e.stage, mode: e.mode }, "code verified");
  const next = e.position + 1;
  if (next < steps.length) {
    const entry = enterBinding(d, e, steps, next);
    // A code to send is sent after this write: the write must not wait on the relay.
    const data = entry.send ? { ...entry.data, state: "email_required" as const } : entry.data;
    return d.store.updateExecution(current, data, entry.stageUid);
  }
  const completed: ExecutionData = {
    ...e,
    state: "completed",
    result: {
      user: e.user.id,
      stage: e.stage,
      device,
      maskedEmail: maskAddress(e.address ?? ""),
      verifiedAt: now.toISOString(),
    },
  };
  // Signed once: the pages and the API hand out this same token.
  const resultToken = d.signResult ? await d.signResult(completed) : undefined;
  return d.store.updateExecution(current, resultToken ? { ...completed, resultToken } : completed);
}
