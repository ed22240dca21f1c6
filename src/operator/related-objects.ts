// Which objects read which, as indexes kept current from the informers' events: a stage's
// bindings and devices, a flow's bindings, the stages a flow configures, and one user's devices
// for a stage. The event wiring and the stage's status use them, so an event or a reconcile
// costs work in proportion to the objects it concerns, not to the namespace (1,000 stages and
// 2,000 bindings in one namespace made every event a scan of all of them).
import type { Informer } from "@emailauth/operator-runtime";
import type { DeviceRelations } from "../controllers/emaildevice/reconciler.ts";
import type { BindingRelations } from "../controllers/flowbinding/reconciler.ts";
import type { StageRelations } from "../controllers/stage/reconciler.ts";
import type { EmailDeviceObject, FlowBindingObject, StageObject } from "../kinds/v1alpha1/objects.ts";
import { indexKey, ObjectIndex } from "./object-index.ts";

const ns = (o: { metadata?: { namespace?: string } }) => o.metadata?.namespace ?? "";

export class RelatedObjects implements StageRelations, DeviceRelations, BindingRelations {
  readonly #bindingsByStage = new ObjectIndex<FlowBindingObject>((b) => [indexKey(ns(b), b.spec.stageRef.name)]);
  readonly #bindingsByFlow = new ObjectIndex<FlowBindingObject>((b) => [indexKey(ns(b), b.spec.flow)]);
  readonly #stagesByConfigureFlow = new ObjectIndex<StageObject>((s) =>
    s.spec.configureFlow ? [indexKey(ns(s), s.spec.configureFlow)] : [],
  );
  readonly #devicesByStage = new ObjectIndex<EmailDeviceObject>((d) => [indexKey(ns(d), d.spec.stageRef.name)]);
  readonly #devicesByUser = new ObjectIndex<EmailDeviceObject>((d) => [
    indexKey(ns(d), d.spec.stageRef.name, d.spec.user.id),
  ]);

  /** Filing per kind: what an add or update (`set`) and a delete of one object do. */
  readonly stages = group(this.#stagesByConfigureFlow);
  readonly bindings = group(this.#bindingsByStage, this.#bindingsByFlow);
  readonly devices = group(this.#devicesByStage, this.#devicesByUser);

  /**
   * Keeps the indexes current from these informers. Call before registering handlers that
   * read them: handlers run in registration order, so those then see the event's object filed.
   */
  watch(informers: {
    stages: Informer<StageObject>[];
    bindings: Informer<FlowBindingObject>[];
    devices: Informer<EmailDeviceObject>[];
  }): void {
    const keep = <T extends StageObject | FlowBindingObject | EmailDeviceObject>(
      g: IndexGroup<T>,
      list: Informer<T>[],
    ) => {
      for (const i of list)
        i.onAdd((o) => g.set(o))
          .onUpdate((_old, o) => g.set(o))
          .onDelete((o) => g.delete(o));
    };
    keep(this.stages, informers.stages);
    keep(this.bindings, informers.bindings);
    keep(this.devices, informers.devices);
  }

  bindingsOfStage(namespace: string, stage: string): FlowBindingObject[] {
    return this.#bindingsByStage.get(indexKey(namespace, stage));
  }

  bindingsOfFlow(namespace: string, flow: string): FlowBindingObject[] {
    return this.#bindingsByFlow.get(indexKey(namespace, flow));
  }

  stagesConfiguredBy(namespace: string, flow: string): StageObject[] {
    return this.#stagesByConfigureFlow.get(indexKey(namespace, flow));
  }

  devicesOfStage(namespace: string, stage: string): EmailDeviceObject[] {
    return this.#devicesByStage.get(indexKey(namespace, stage));
  }

  deviceCount(namespace: string, stage: string): number {
    return this.#devicesByStage.count(indexKey(namespace, stage));
  }

  devicesOfUser(namespace: string, stage: string, userId: string): EmailDeviceObject[] {
    return this.#devicesByUser.get(indexKey(namespace, stage, userId));
  }
}

export interface IndexGroup<T> {
  set(o: T): void;
  delete(o: T): void;
}

function group<T extends { metadata?: { namespace?: string; name?: string } }>(
  ...indexes: ObjectIndex<T>[]
): IndexGroup<T> {
  return {
    set: (o) => indexes.forEach((x) => x.set(o)),
    delete: (o) => indexes.forEach((x) => x.delete(o)),
  };
}
