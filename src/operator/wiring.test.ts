// Which keys an informer event enqueues: what reads the changed object is reconciled too, found
// through the indexes, and an update fans out only when it changed what the others read.
import { describe, expect, it } from "vitest";
import type { Informer, Request } from "@emailauth/operator-runtime";
import {
  decodeEmailDevice,
  decodeFlowBinding,
  decodeStage,
  type EmailDeviceObject,
  type FlowBindingObject,
  type StageObject,
} from "../kinds/v1alpha1/objects.ts";
import { RelatedObjects } from "./related-objects.ts";
import {
  type Enqueuers,
  onBinding,
  onBindingUpdate,
  onDevice,
  onDeviceAdd,
  onDeviceUpdate,
  onStage,
  onStageUpdate,
  wireInformers,
} from "./wiring.ts";

const ns = "app";

function decoded<T>(decode: (raw: never) => T | Error, raw: object): T {
  const o = decode(raw as never);
  if (o instanceof Error) throw o;
  return o;
}
const stage = (name: string, spec: object = {}, extra: object = {}) =>
  decoded(decodeStage, { metadata: { namespace: ns, name, generation: 1 }, spec, ...extra });
const binding = (name: string, flow: string, stageName: string, generation = 1) =>
  decoded(decodeFlowBinding, {
    metadata: { namespace: ns, name, generation },
    spec: { flow, stageRef: { name: stageName } },
  });
const device = (name: string, user: string, extra: object = {}) =>
  decoded(decodeEmailDevice, {
    metadata: { namespace: ns, name, generation: 1 },
    spec: { stageRef: { name: "email" }, user: { id: user }, email: `${name}@example.com` },
    ...extra,
  });

const condition = (status: string, reason: string) => ({
  type: "Ready",
  status,
  observedGeneration: 1,
  lastTransitionTime: "2026-01-01T00:00:00Z",
  reason,
  message: "",
});

function recorder() {
  const seen: string[] = [];
  const q: Enqueuers = {
    stage: (r: Request) => seen.push(`stage ${r.name}`),
    stageCount: (r: Request) => seen.push(`stage count ${r.name}`),
    binding: (r: Request) => seen.push(`binding ${r.name}`),
    device: (r: Request) => seen.push(`device ${r.name}`),
  };
  const take = () => seen.splice(0).sort();
  return { q, take };
}

function setup() {
  const related = new RelatedObjects();
  related.stages.set(stage("email"));
  related.stages.set(stage("configured", { configureFlow: "enrol" }));
  for (const [name, flow, s] of [
    ["a", "login", "email"],
    ["b", "login", "other"],
    ["c", "enrol", "email"],
  ] as const)
    related.bindings.set(binding(name, flow, s));
  for (const [name, user] of [
    ["d1", "alice"],
    ["d2", "alice"],
    ["d3", "bob"],
  ] as const)
    related.devices.set(device(name, user));
  return { related, ...recorder() };
}

describe("wiring", () => {
  it("a new or deleted stage reconciles the stage, its bindings and its devices", () => {
    const { related, q, take } = setup();
    onStage(stage("email"), related, q);
    expect(take()).toEqual(["binding a", "binding c", "device d1", "device d2", "device d3", "stage email"]);
  });

  it("a stage update reconciles its bindings only when its readiness or generation changed, its devices only on deletion", () => {
    const { related, q, take } = setup();
    const ready = { observedGeneration: 1, conditions: [condition("True", "Ready")] };
    const before = stage("email", {}, { status: { ...ready, deviceCount: 2, flows: ["enrol"] } });
    onStageUpdate(
      before,
      stage("email", {}, { status: { ...ready, deviceCount: 3, flows: ["enrol", "login"] } }),
      related,
      q,
    );
    expect(take()).toEqual(["stage email"]);

    const stalled = {
      observedGeneration: 1,
      conditions: [condition("False", "SecretNotFound")],
    };
    onStageUpdate(before, stage("email", {}, { status: { ...stalled, deviceCount: 2 } }), related, q);
    expect(take()).toEqual(["binding a", "binding c", "stage email"]);

    const edited = decoded(decodeStage, { metadata: { namespace: ns, name: "email", generation: 2 }, spec: {} });
    onStageUpdate(before, edited, related, q);
    expect(take()).toEqual(["binding a", "binding c", "stage email"]);

    const going = stage(
      "email",
      {},
      { metadata: { namespace: ns, name: "email", generation: 1, deletionTimestamp: "x" } },
    );
    onStageUpdate(stage("email"), going, related, q);
    expect(take()).toEqual(["binding a", "binding c", "device d1", "device d2", "device d3", "stage email"]);
  });

  it("a binding event reconciles its flow's bindings, its stage and the stages it configures", () => {
    const { related, q, take } = setup();
    onBinding(binding("c", "enrol", "email"), related, q);
    expect(take()).toEqual(["binding c", "binding c", "stage configured", "stage email"]);
    onBinding(binding("a", "login", "email"), related, q);
    expect(take()).toEqual(["binding a", "binding a", "binding b", "stage email"]);
  });

  it("a binding's status write reconciles only the binding; a spec change both its old and new relations", () => {
    const { related, q, take } = setup();
    onBindingUpdate(binding("a", "login", "email"), binding("a", "login", "email"), related, q);
    expect(take()).toEqual(["binding a"]);
    const moved = binding("a", "enrol", "email", 2);
    related.bindings.set(moved); // the index is filed before the handlers run
    onBindingUpdate(binding("a", "login", "email"), moved, related, q);
    expect(take()).toEqual(
      [
        "binding a",
        "binding a",
        "binding a",
        "binding b",
        "binding c",
        "stage configured",
        "stage email",
        "stage email",
      ].sort(),
    );
  });

  it("a device event reconciles the other devices of the same user and stage, and the stage", () => {
    const { related, q, take } = setup();
    onDevice(device("d1", "alice"), related, q);
    expect(take()).toEqual(["device d1", "device d1", "device d2", "stage email"]);
    // A new device only adds to the stage's count: the stage is reconciled a little later.
    onDeviceAdd(device("d1", "alice"), related, q);
    expect(take()).toEqual(["device d1", "device d1", "device d2", "stage count email"]);
  });

  it("a device's status write reconciles only the device, and a sign-in's lastUsedAt alone nothing", () => {
    const { related, q, take } = setup();
    const confirmed = { confirmedAt: "2026-01-01T00:00:00Z", observedGeneration: 1 };
    const first = device("d1", "alice", { status: confirmed });
    onDeviceUpdate(device("d1", "alice"), first, related, q);
    expect(take()).toEqual(["device d1"]);
    const used = device("d1", "alice", {
      metadata: { namespace: ns, name: "d1", generation: 1, resourceVersion: "7" },
      status: { ...confirmed, lastUsedAt: "2026-01-01T00:00:00Z" },
    });
    onDeviceUpdate(first, used, related, q);
    expect(take()).toEqual([]);
    // lastUsedAt and anything else in one write: the device is reconciled.
    const usedAndStale = device("d1", "alice", { status: { lastUsedAt: "2026-01-02T00:00:00Z" } });
    onDeviceUpdate(used, usedAndStale, related, q);
    expect(take()).toEqual(["device d1"]);
    const relabelled = device("d1", "alice", {
      metadata: { namespace: ns, name: "d1", generation: 1, labels: { team: "a" } },
      status: { lastUsedAt: "2026-01-03T00:00:00Z" },
    });
    onDeviceUpdate(usedAndStale, relabelled, related, q);
    expect(take()).toEqual(["device d1"]);
    const going = device("d1", "alice", {
      metadata: { namespace: ns, name: "d1", generation: 1, deletionTimestamp: "x" },
    });
    onDeviceUpdate(relabelled, going, related, q);
    expect(take()).toEqual([
      "device d1",
      "device d1",
      "device d1",
      "device d1",
      "device d2",
      "device d2",
      "stage email",
      "stage email",
    ]);
  });

  it("costs work in proportion to the related objects, not to the namespace", () => {
    const related = new RelatedObjects();
    for (let i = 0; i < 1000; i++) {
      related.stages.set(stage(`s${i}`, { configureFlow: `f${i}` }));
      related.bindings.set(binding(`s${i}-setup`, `f${i}`, `s${i}`));
      related.bindings.set(binding(`s${i}-login`, `login${i}`, `s${i}`));
    }
    const { q, take } = recorder();
    onBinding(binding("s7-setup", "f7", "s7"), related, q);
    expect(take()).toEqual(["binding s7-setup", "binding s7-setup", "stage s7", "stage s7"]);
    onStage(stage("s7"), related, q);
    expect(take()).toEqual(["binding s7-login", "binding s7-setup", "stage s7"]);
  });
});

describe("wireInformers", () => {
  it("keeps the indexes on every replica, fills them before the handlers read them, and resyncs each object alone", () => {
    const informers = {
      stages: [new FakeInformer<StageObject>()],
      bindings: [new FakeInformer<FlowBindingObject>()],
      devices: [new FakeInformer<EmailDeviceObject>()],
    };
    const { q, take } = recorder();
    let leading = false;
    const related = wireInformers(
      informers as unknown as {
        stages: Informer<StageObject>[];
        bindings: Informer<FlowBindingObject>[];
        devices: Informer<EmailDeviceObject>[];
      },
      () => (leading ? q : undefined),
    );
    const [stages, bindings, devices] = [informers.stages[0], informers.bindings[0], informers.devices[0]];
    bindings?.add(binding("a", "login", "email")); // while following: indexed, nothing enqueued
    expect(related.bindingsOfFlow(ns, "login").map((b) => b.metadata?.name)).toEqual(["a"]);
    expect(take()).toEqual([]);

    leading = true;
    bindings?.add(binding("b", "login", "other"));
    expect(take()).toEqual(["binding a", "binding b", "binding b", "stage other"]);
    bindings?.update(binding("b", "login", "other"), binding("b", "enrol", "other", 2));
    expect(related.bindingsOfFlow(ns, "login").map((b) => b.metadata?.name)).toEqual(["a"]);
    expect(related.bindingsOfFlow(ns, "enrol").map((b) => b.metadata?.name)).toEqual(["b"]);
    take();
    bindings?.remove(binding("a", "login", "email"));
    expect(related.bindingsOfFlow(ns, "login")).toEqual([]);
    expect(take()).toEqual(["binding a", "stage email"]);

    stages?.add(stage("email", { configureFlow: "enrol" }));
    expect(related.stagesConfiguredBy(ns, "enrol").map((s) => s.metadata?.name)).toEqual(["email"]);
    expect(take()).toEqual(["stage email"]);
    devices?.add(device("d1", "alice"));
    devices?.add(device("d2", "bob"));
    expect(related.deviceCount(ns, "email")).toBe(2);
    // Each device and the user's devices (itself) at once, the stage's count later.
    expect(take()).toEqual([
      "device d1",
      "device d1",
      "device d2",
      "device d2",
      "stage count email",
      "stage count email",
    ]);
    devices?.resync(device("d1", "alice"));
    stages?.resync(stage("email"));
    expect(take()).toEqual(["device d1", "stage email"]);
    devices?.remove(device("d2", "bob"));
    expect(related.deviceCount(ns, "email")).toBe(1);
    expect(take()).toEqual(["device d2", "stage email"]);
  });
});

/** The handler registration an Informer offers, driven by hand. */
class FakeInformer<T extends { metadata?: { namespace?: string; name?: string } }> {
  readonly #add: ((o: T) => unknown)[] = [];
  readonly #update: ((old: T, o: T) => unknown)[] = [];
  readonly #delete: ((o: T) => unknown)[] = [];
  readonly #resync: ((key: string, o: T) => unknown)[] = [];
  onAdd(h: (o: T) => unknown): this {
    this.#add.push(h);
    return this;
  }
  onUpdate(h: (old: T, o: T) => unknown): this {
    this.#update.push(h);
    return this;
  }
  onDelete(h: (o: T) => unknown): this {
    this.#delete.push(h);
    return this;
  }
  onResync(h: (key: string, o: T) => unknown): this {
    this.#resync.push(h);
    return this;
  }
  onInvalid(): this {
    return this;
  }
  add(o: T): void {
    for (const h of this.#add) h(o);
  }
  update(old: T, o: T): void {
    for (const h of this.#update) h(old, o);
  }
  remove(o: T): void {
    for (const h of this.#delete) h(o);
  }
  resync(o: T): void {
    for (const h of this.#resync) h(`${o.metadata?.namespace}/${o.metadata?.name}`, o);
  }
}
