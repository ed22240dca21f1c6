// Which keys an informer event enqueues: what reads the changed object is reconciled too.
import { describe, expect, it } from "vitest";
import type { Request } from "@emailauth/operator-runtime";
import { FakeObjects } from "../controllers/testing/fake-objects.ts";
import {
  decodeEmailDevice,
  decodeFlowBinding,
  decodeStage,
  type EmailDeviceObject,
  type FlowBindingObject,
  type StageObject,
} from "../kinds/v1alpha1/objects.ts";
import { type Caches, onBinding, onDevice, onStage } from "./wiring.ts";

const ns = "app";
function setup() {
  const caches: Caches = {
    stages: new FakeObjects(decodeStage),
    bindings: new FakeObjects(decodeFlowBinding),
    devices: new FakeObjects(decodeEmailDevice),
  };
  const seen: string[] = [];
  const q = {
    stage: (r: Request) => seen.push(`stage ${r.name}`),
    binding: (r: Request) => seen.push(`binding ${r.name}`),
    device: (r: Request) => seen.push(`device ${r.name}`),
  };
  const stores = caches as unknown as Record<keyof Caches, FakeObjects>;
  stores.stages.apply({ metadata: { namespace: ns, name: "email" }, spec: {} });
  stores.stages.apply({ metadata: { namespace: ns, name: "configured" }, spec: { configureFlow: "enrol" } });
  for (const [name, flow, stage] of [
    ["a", "login", "email"],
    ["b", "login", "other"],
    ["c", "enrol", "email"],
  ] as const)
    stores.bindings.apply({ metadata: { namespace: ns, name }, spec: { flow, stageRef: { name: stage } } });
  for (const [name, user] of [
    ["d1", "alice"],
    ["d2", "alice"],
    ["d3", "bob"],
  ] as const)
    stores.devices.apply({
      metadata: { namespace: ns, name },
      spec: { stageRef: { name: "email" }, user: { id: user }, email: `${name}@example.com` },
    });
  return { caches, q, seen };
}

describe("wiring", () => {
  it("a stage event reconciles the stage, its bindings and its devices", () => {
    const { caches, q, seen } = setup();
    onStage(caches.stages.get(ns, "email") as StageObject, caches, q);
    expect(seen.sort()).toEqual(["binding a", "binding c", "device d1", "device d2", "device d3", "stage email"]);
  });

  it("a binding event reconciles its flow's bindings, its stage and the stages it configures", () => {
    const { caches, q, seen } = setup();
    onBinding(caches.bindings.get(ns, "c") as FlowBindingObject, caches, q);
    expect(seen.sort()).toEqual(["binding c", "binding c", "stage configured", "stage email"]);
    seen.length = 0;
    onBinding(caches.bindings.get(ns, "a") as FlowBindingObject, caches, q);
    expect(seen.sort()).toEqual(["binding a", "binding a", "binding b", "stage email"]);
  });

  it("a device event reconciles the other devices of the same user and stage", () => {
    const { caches, q, seen } = setup();
    onDevice(caches.devices.get(ns, "d1") as EmailDeviceObject, caches, q);
    expect(seen.sort()).toEqual(["device d1", "device d1", "device d2", "stage email"]);
  });
});
