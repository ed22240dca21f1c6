// Which reconciles an informer event causes. Reconciles are level-based, so a handler only
// names keys: the object itself, and whatever reads it (a stage's bindings and devices read
// the stage; a stage's status counts its bindings and devices; bindings of a flow see each other;
// devices of one user and stage see each other).
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Informer } from "@emailauth/operator-runtime";
import type { CustomObject } from "@emailauth/operator-runtime";
import type { ObjectCache } from "@emailauth/operator-runtime";
import type { Request } from "@emailauth/operator-runtime";

type Ref = { stageRef?: { name?: string }; flow?: string; user?: { id?: string } };
export type Obj = CustomObject<Ref> & KubernetesObject;

export interface Enqueuers {
  stage(req: Request): void;
  binding(req: Request): void;
  device(req: Request): void;
}

export interface Caches {
  bindings: ObjectCache<Obj>;
  devices: ObjectCache<Obj>;
}

const req = (o: Obj): Request => ({ namespace: o.metadata?.namespace ?? "", name: o.metadata?.name ?? "" });
const namesStage = (stage: Request) => (o: Obj) => o.spec?.stageRef?.name === stage.name;

export function onStage(stage: Obj, caches: Caches, q: Enqueuers): void {
  const r = req(stage);
  q.stage(r);
  for (const b of caches.bindings.list(r.namespace).filter(namesStage(r))) q.binding(req(b));
  for (const d of caches.devices.list(r.namespace).filter(namesStage(r))) q.device(req(d));
}

export function onBinding(binding: Obj, caches: Caches, q: Enqueuers): void {
  const r = req(binding);
  q.binding(r);
  if (binding.spec?.stageRef?.name) q.stage({ namespace: r.namespace, name: binding.spec.stageRef.name });
  for (const b of caches.bindings.list(r.namespace)) if (b.spec?.flow === binding.spec?.flow) q.binding(req(b));
}

export function onDevice(device: Obj, caches: Caches, q: Enqueuers): void {
  const r = req(device);
  q.device(r);
  if (device.spec?.stageRef?.name) q.stage({ namespace: r.namespace, name: device.spec.stageRef.name });
  // Devices of one user and stage report each other as duplicates, and recover together.
  const stage = device.spec?.stageRef?.name;
  const user = device.spec?.user?.id;
  for (const d of caches.devices.list(r.namespace))
    if (d.spec?.stageRef?.name === stage && d.spec?.user?.id === user) q.device(req(d));
}

/** Registers the handlers; `q()` is undefined on a replica that does not lead. */
export function wireInformers(
  informers: { stages: Informer<Obj>[]; bindings: Informer<Obj>[]; devices: Informer<Obj>[] },
  caches: Caches,
  q: () => Enqueuers | undefined,
): void {
  const both = (f: (o: Obj, q: Enqueuers) => void) => ({
    one: (o: Obj) => {
      const e = q();
      if (e) f(o, e);
    },
    two: (old: Obj, o: Obj) => {
      const e = q();
      if (!e) return;
      f(old, e);
      f(o, e);
    },
  });
  const stage = both((o, e) => onStage(o, caches, e));
  const binding = both((o, e) => onBinding(o, caches, e));
  const device = both((o, e) => onDevice(o, caches, e));
  for (const i of informers.stages)
    i.onAdd(stage.one)
      .onUpdate((_old, o) => stage.one(o))
      .onDelete(stage.one)
      .onResync((_k, o) => stage.one(o));
  for (const i of informers.bindings)
    i.onAdd(binding.one)
      .onUpdate(binding.two)
      .onDelete(binding.one)
      .onResync((_k, o) => binding.one(o));
  for (const i of informers.devices)
    i.onAdd(device.one)
      .onUpdate(device.two)
      .onDelete(device.one)
      .onResync((_k, o) => device.one(o));
}
