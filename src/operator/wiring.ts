// Which reconciles an informer event causes. Reconciles are level-based, so a handler only
// names keys: the object itself, and whatever reads it (a stage's bindings and devices read
// the stage; a stage's status counts its bindings and devices and checks its configureFlow;
// bindings of a flow see each other; devices of one user and stage see each other). The
// related objects come from indexes (related-objects.ts), so an event costs work in proportion
// to what it concerns. An update fans out only when it changed what the others read: a status
// write read by nobody else reconciles just its object, so a device's lastUsedAt does not
// reconcile its stage and a stage's device count does not reconcile its thousand devices; and a
// new device, which only adds to its stage's count, reconciles the stage a second later, once
// for all the devices of that second.
// An object that fails to decode is handed to its own controller, which reports it as Stalled.
import type { Condition, Informer, InvalidObject, ObjectCache, Request } from "@emailauth/operator-runtime";
import type { EmailDeviceObject, FlowBindingObject, StageObject } from "../kinds/v1alpha1/objects.ts";
import { RelatedObjects } from "./related-objects.ts";

export interface Enqueuers {
  stage(req: Request): void;
  /** The stage only counts one more device: reconciled within STAGE_COUNT_DELAY_MS, once for all of them. */
  stageCount(req: Request): void;
  binding(req: Request): void;
  device(req: Request): void;
}

/**
 * How long a stage waits to count the devices added meanwhile. Every Setup flow adds one, and a
 * stage's reconcile resolves its settings and templates again; its status writes the count at
 * most every DEVICE_COUNT_INTERVAL_MS anyway.
 */
export const STAGE_COUNT_DELAY_MS = 1_000;

export interface Caches {
  stages: ObjectCache<StageObject>;
  bindings: ObjectCache<FlowBindingObject>;
  devices: ObjectCache<EmailDeviceObject>;
}

export interface KindInformerLists {
  stages: Informer<StageObject>[];
  bindings: Informer<FlowBindingObject>[];
  devices: Informer<EmailDeviceObject>[];
}

type Meta = {
  metadata?: { namespace?: string; name?: string; generation?: number; deletionTimestamp?: unknown };
};
const req = (o: Meta): Request => ({ namespace: o.metadata?.namespace ?? "", name: o.metadata?.name ?? "" });

/** A new or deleted stage: its bindings mirror it, its devices need it, its status is new. */
export function onStage(stage: StageObject, related: RelatedObjects, q: Enqueuers): void {
  const r = req(stage);
  q.stage(r);
  for (const b of related.bindingsOfStage(r.namespace, r.name)) q.binding(req(b));
  for (const d of related.devicesOfStage(r.namespace, r.name)) q.device(req(d));
}

/**
 * Bindings read the stage's generation and readiness conditions; devices only whether it
 * exists (and is not being deleted). A change of its flows or device count concerns neither.
 */
export function onStageUpdate(old: StageObject, stage: StageObject, related: RelatedObjects, q: Enqueuers): void {
  const r = req(stage);
  q.stage(r);
  const deletion = deleting(old) !== deleting(stage);
  if (
    deletion ||
    old.metadata?.generation !== stage.metadata?.generation ||
    old.status?.observedGeneration !== stage.status?.observedGeneration ||
    !sameConditions(old.status?.conditions, stage.status?.conditions)
  )
    for (const b of related.bindingsOfStage(r.namespace, r.name)) q.binding(req(b));
  if (deletion) for (const d of related.devicesOfStage(r.namespace, r.name)) q.device(req(d));
}

export function onBinding(binding: FlowBindingObject, related: RelatedObjects, q: Enqueuers): void {
  const r = req(binding);
  const { flow, stageRef } = binding.spec;
  q.binding(r);
  q.stage({ namespace: r.namespace, name: stageRef.name });
  for (const b of related.bindingsOfFlow(r.namespace, flow)) q.binding(req(b));
  // Stages that name this flow as the one that sets them up.
  for (const s of related.stagesConfiguredBy(r.namespace, flow)) q.stage(req(s));
}

/** Others read a binding's spec and whether it is being deleted, never its status. */
export function onBindingUpdate(
  old: FlowBindingObject,
  binding: FlowBindingObject,
  related: RelatedObjects,
  q: Enqueuers,
): void {
  if (!specOrDeletionChanged(old, binding)) return q.binding(req(binding));
  onBinding(old, related, q);
  onBinding(binding, related, q);
}

/** A deleted device, or one whose spec changed: its stage and the user's other devices at once. */
export function onDevice(device: EmailDeviceObject, related: RelatedObjects, q: Enqueuers): void {
  enqueueDevice(device, related, q, (r) => q.stage(r));
}

/** A new device: its stage counts it together with the others added within a second. */
export function onDeviceAdd(device: EmailDeviceObject, related: RelatedObjects, q: Enqueuers): void {
  enqueueDevice(device, related, q, (r) => q.stageCount(r));
}

function enqueueDevice(
  device: EmailDeviceObject,
  related: RelatedObjects,
  q: Enqueuers,
  stage: (req: Request) => void,
): void {
  const r = req(device);
  const { stageRef, user } = device.spec;
  q.device(r);
  stage({ namespace: r.namespace, name: stageRef.name });
  // Devices of one user and stage report each other as duplicates, and recover together.
  for (const d of related.devicesOfUser(r.namespace, stageRef.name, user.id)) q.device(req(d));
}

/**
 * The stage counts its devices (adds and deletes); the user's other devices read this one's
 * spec and deletion. A status write concerns only the device, and the one of every sign-in,
 * lastUsedAt alone, not even that: the device's reconciler only carries it over.
 */
export function onDeviceUpdate(
  old: EmailDeviceObject,
  device: EmailDeviceObject,
  related: RelatedObjects,
  q: Enqueuers,
): void {
  if (onlyLastUsedAtChanged(old, device)) return;
  if (!specOrDeletionChanged(old, device)) return q.device(req(device));
  onDevice(old, related, q);
  onDevice(device, related, q);
}

/**
 * Registers the handlers and returns the indexes they keep (for the stage's status too);
 * `q()` is undefined on a replica that does not lead. A resync reconciles each object alone:
 * every object gets its own.
 */
export function wireInformers(informers: KindInformerLists, q: () => Enqueuers | undefined): RelatedObjects {
  const related = new RelatedObjects();
  related.watch(informers); // first: the handlers below read the indexes
  const lead =
    <A extends unknown[]>(f: (e: Enqueuers, ...a: A) => void) =>
    (...a: A) => {
      const e = q();
      if (e) f(e, ...a);
    };
  const invalid = (kind: keyof Enqueuers) => lead((e, bad: InvalidObject) => e[kind](req(bad.object)));
  const self = (kind: keyof Enqueuers) => lead((e, _key: string, o: Meta) => e[kind](req(o)));
  for (const i of informers.stages)
    i.onAdd(lead((e, o: StageObject) => onStage(o, related, e)))
      .onUpdate(lead((e, old: StageObject, o: StageObject) => onStageUpdate(old, o, related, e)))
      .onDelete(lead((e, o: StageObject) => onStage(o, related, e)))
      .onResync(self("stage"))
      .onInvalid(invalid("stage"));
  for (const i of informers.bindings)
    i.onAdd(lead((e, o: FlowBindingObject) => onBinding(o, related, e)))
      .onUpdate(lead((e, old: FlowBindingObject, o: FlowBindingObject) => onBindingUpdate(old, o, related, e)))
      .onDelete(lead((e, o: FlowBindingObject) => onBinding(o, related, e)))
      .onResync(self("binding"))
      .onInvalid(invalid("binding"));
  for (const i of informers.devices)
    i.onAdd(lead((e, o: EmailDeviceObject) => onDeviceAdd(o, related, e)))
      .onUpdate(lead((e, old: EmailDeviceObject, o: EmailDeviceObject) => onDeviceUpdate(old, o, related, e)))
      .onDelete(lead((e, o: EmailDeviceObject) => onDevice(o, related, e)))
      .onResync(self("device"))
      .onInvalid(invalid("device"));
  return related;
}

const deleting = (o: Meta) => Boolean(o.metadata?.deletionTimestamp);

function specOrDeletionChanged(old: Meta, o: Meta): boolean {
  return old.metadata?.generation !== o.metadata?.generation || deleting(old) !== deleting(o);
}

function onlyLastUsedAtChanged(old: EmailDeviceObject, o: EmailDeviceObject): boolean {
  if (old.status?.lastUsedAt === o.status?.lastUsedAt) return false;
  const rest = ({ metadata, spec, status }: EmailDeviceObject) =>
    JSON.stringify([{ ...metadata, resourceVersion: undefined }, spec, { ...status, lastUsedAt: undefined }]);
  return rest(old) === rest(o);
}

function sameConditions(a: readonly Condition[] | undefined, b: readonly Condition[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}
