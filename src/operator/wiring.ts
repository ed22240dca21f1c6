// Which reconciles an informer event causes. Reconciles are level-based, so a handler only
// names keys: the object itself, and whatever reads it (a stage's bindings and devices read
// the stage; a stage's status counts its bindings and devices and checks its configureFlow;
// bindings of a flow see each other; devices of one user and stage see each other). An object
// that fails to decode is handed to its own controller, which reports it as Stalled.
import type { Informer, InvalidObject, ObjectCache, Request } from "@emailauth/operator-runtime";
import type { EmailDeviceObject, FlowBindingObject, StageObject } from "../kinds/v1alpha1/objects.ts";

export interface Enqueuers {
  stage(req: Request): void;
  binding(req: Request): void;
  device(req: Request): void;
}

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

type Meta = { metadata?: { namespace?: string; name?: string } };
const req = (o: Meta): Request => ({ namespace: o.metadata?.namespace ?? "", name: o.metadata?.name ?? "" });

export function onStage(stage: StageObject, caches: Caches, q: Enqueuers): void {
  const r = req(stage);
  q.stage(r);
  for (const b of caches.bindings.list(r.namespace)) if (b.spec.stageRef.name === r.name) q.binding(req(b));
  for (const d of caches.devices.list(r.namespace)) if (d.spec.stageRef.name === r.name) q.device(req(d));
}

export function onBinding(binding: FlowBindingObject, caches: Caches, q: Enqueuers): void {
  const r = req(binding);
  const { flow, stageRef } = binding.spec;
  q.binding(r);
  q.stage({ namespace: r.namespace, name: stageRef.name });
  for (const b of caches.bindings.list(r.namespace)) if (b.spec.flow === flow) q.binding(req(b));
  // Stages that name this flow as the one that sets them up.
  for (const s of caches.stages.list(r.namespace)) if (s.spec.configureFlow === flow) q.stage(req(s));
}

export function onDevice(device: EmailDeviceObject, caches: Caches, q: Enqueuers): void {
  const r = req(device);
  const { stageRef, user } = device.spec;
  q.device(r);
  q.stage({ namespace: r.namespace, name: stageRef.name });
  // Devices of one user and stage report each other as duplicates, and recover together.
  for (const d of caches.devices.list(r.namespace))
    if (d.spec.stageRef.name === stageRef.name && d.spec.user.id === user.id) q.device(req(d));
}

/** Registers the handlers; `q()` is undefined on a replica that does not lead. */
export function wireInformers(informers: KindInformerLists, caches: Caches, q: () => Enqueuers | undefined): void {
  const both = <T>(f: (o: T, q: Enqueuers) => void) => ({
    one: (o: T) => {
      const e = q();
      if (e) f(o, e);
    },
    two: (old: T, o: T) => {
      const e = q();
      if (!e) return;
      f(old, e);
      f(o, e);
    },
  });
  const invalid = (kind: keyof Enqueuers) => (bad: InvalidObject) => q()?.[kind](req(bad.object));
  const stage = both<StageObject>((o, e) => onStage(o, caches, e));
  const binding = both<FlowBindingObject>((o, e) => onBinding(o, caches, e));
  const device = both<EmailDeviceObject>((o, e) => onDevice(o, caches, e));
  for (const i of informers.stages)
    i.onAdd(stage.one)
      .onUpdate((_old, o) => stage.one(o))
      .onDelete(stage.one)
      .onResync((_k, o) => stage.one(o))
      .onInvalid(invalid("stage"));
  for (const i of informers.bindings)
    i.onAdd(binding.one)
      .onUpdate(binding.two)
      .onDelete(binding.one)
      .onResync((_k, o) => binding.one(o))
      .onInvalid(invalid("binding"));
  for (const i of informers.devices)
    i.onAdd(device.one)
      .onUpdate(device.two)
      .onDelete(device.one)
      .onResync((_k, o) => device.one(o))
      .onInvalid(invalid("device"));
}
