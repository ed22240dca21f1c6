// What entering a binding of a flow makes of an execution record: denied, asking for an address,
// or a code to send (to a decoy address when an Authenticate binding denies a user without a
// device). Pure apart from reading the caches it is given.
import { createHash } from "node:crypto";
import { findConfirmedDevice, type UserDevices } from "../devices/devices.ts";
import { parseAddress } from "../email/address.ts";
import type { FlowStep } from "../flows/flow.ts";
import type { StageDirectory } from "../stage/stage-directory.ts";
import { refuse } from "./outcomes.ts";
import { enterStep } from "./steps.ts";
import type { ExecutionData } from "./types.ts";

/** What entering a binding makes of the record, and the code to send if it sends one. */
export interface Entry {
  data: ExecutionData;
  stageUid: string;
  send?: { address: string };
}

export interface EntryDeps {
  devices: UserDevices;
  stages: StageDirectory;
}

/**
 * The record at binding `position`. An Authenticate binding that denies users without a device
 * becomes a decoy code step instead: the application sees the denial, the end user an ordinary
 * step that mails nothing, so the execution token does not tell who has a device.
 */
export function enterBinding(d: EntryDeps, e: ExecutionData, steps: FlowStep[], position: number): Entry {
  const step = steps[position] as FlowStep;
  const found = findConfirmedDevice(d.devices, e.namespace, step.stage, e.user.id);
  const entry = enterStep(
    step,
    e.user,
    found?.spec ? { name: found.metadata?.name ?? "", email: found.spec.email } : undefined,
    d.stages.get(e.namespace, step.stage)?.spec.configureFlow,
  );
  const stageUid = stageUidOf(d.stages, e.namespace, step.stage);
  const at: ExecutionData = {
    ...e,
    position,
    binding: step.binding,
    stage: step.stage,
    mode: step.intent,
    address: undefined,
    addressFixed: false,
    challenge: undefined,
    decoy: undefined,
  };
  if (entry.kind === "deny" && entry.code === "no_device")
    return {
      data: { ...at, decoy: { code: entry.code, detail: entry.detail } },
      stageUid,
      send: { address: decoyAddress(e) },
    };
  if (entry.kind === "deny")
    return { data: { ...at, state: "denied", denial: { code: entry.code, detail: entry.detail } }, stageUid };
  if (entry.kind === "ask_email") return { data: { ...at, mode: "Setup", state: "email_required" }, stageUid };
  return { data: { ...at, mode: entry.mode }, stageUid, send: { address: entry.address } };
}

/** The stage's uid, which the record's labels carry; a missing stage is refused. */
export function stageUidOf(stages: StageDirectory, namespace: string, stage: string): string {
  const uid = stages.get(namespace, stage)?.uid;
  return (
    uid ?? refuse({ kind: "stage_not_ready", detail: `EmailAuthenticatorStage ${namespace}/${stage} does not exist` })
  );
}

/**
 * Where a decoy step claims to send: the address the application gave, else one derived from the
 * user id, so the masked form stays the same for the same user.
 */
function decoyAddress(e: ExecutionData): string {
  if (e.user.email) return e.user.email;
  const parsed = parseAddress(e.user.id);
  if (parsed.ok) return parsed.address;
  const hash = createHash("sha256").update(`${e.namespace}\0${e.user.id}`).digest("hex");
  return `${hash.slice(0, 4 + (parseInt(hash.slice(0, 1), 16) % 6))}@${hash.slice(10, 17)}.com`;
}
