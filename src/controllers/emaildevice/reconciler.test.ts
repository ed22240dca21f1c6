// The EmailDevice reconciler against in-memory caches and a fake clock: every condition a
// device can report (Ready: Confirmed, Pending, StageNotFound, DuplicateDevice, InvalidSpec;
// Confirmed: True, False).
import { computeKStatus, FakeClock } from "@emailauth/operator-runtime";
import { beforeEach, describe, expect, it } from "vitest";
import { EMAIL_DEVICES, STAGES } from "../../k8s/custom-objects.ts";
import {
  decodeEmailDevice,
  decodeStage,
  type EmailDeviceObject,
  type StageObject,
} from "../../kinds/v1alpha1/objects.ts";
import { firstConfirmedStatus } from "../../devices/device-status.ts";
import { MANAGED_BY } from "../../kinds/labels.ts";
import { STAGE_GRACE_MS } from "../missing-stage.ts";
import { FakeObjects, FakeWrites } from "../testing/fake-objects.ts";
import { scanDeviceRelations } from "../testing/scan-relations.ts";
import { FIRST_STATUS_GRACE_MS } from "./policy.ts";
import { EmailDeviceReconciler } from "./reconciler.ts";

const ns = "app";
let clock: FakeClock;
let stages: FakeObjects<StageObject>;
let devices: FakeObjects<EmailDeviceObject>;
let writes: FakeWrites;
let reconciler: EmailDeviceReconciler;

const device = (name: string, spec: Record<string, unknown> = {}, createdAt = clock.now()) =>
  devices.apply(
    {
      metadata: { namespace: ns, name },
      spec: {
        stageRef: { name: "email" },
        user: { id: "alice" },
        email: "alice@example.com",
        confirmed: true,
        ...spec,
      },
    },
    createdAt,
  );
const reconcile = (name: string) => reconciler.reconcile({ namespace: ns, name });
const cond = (name: string, type = "Ready") => devices.raw(ns, name)?.status?.conditions?.find((c) => c.type === type);
const kstatus = (name: string) => computeKStatus(devices.raw(ns, name) ?? {}).status;

beforeEach(() => {
  clock = new FakeClock(new Date("2026-01-01T00:00:00Z"));
  const versions = { next: 1 };
  stages = new FakeObjects(decodeStage, versions);
  devices = new FakeObjects(decodeEmailDevice, versions);
  writes = new FakeWrites({ [STAGES.plural]: stages, [EMAIL_DEVICES.plural]: devices });
  reconciler = new EmailDeviceReconciler({ devices, stages, related: scanDeviceRelations(devices), writes, clock });
  stages.apply({ metadata: { namespace: ns, name: "email" }, spec: {} });
});

describe("EmailDeviceReconciler", () => {
  it("is Ready and Confirmed when confirmed; keeps the times the API wrote", async () => {
    device("d");
    devices.write(devices.get(ns, "d") ?? {}, () => ({ status: { confirmedAt: "2025-12-31T00:00:00Z" } }));
    await reconcile("d");
    expect(cond("d")).toMatchObject({ status: "True", reason: "Confirmed" });
    expect(cond("d", "Confirmed")).toMatchObject({ status: "True", reason: "Confirmed" });
    expect(devices.get(ns, "d")?.status?.confirmedAt).toBe("2025-12-31T00:00:00Z");
    expect(kstatus("d")).toBe("Current");
    await reconcile("d");
    expect(writes.log).toHaveLength(1);
  });

  it("reads a declared pending device as Current with Confirmed=False, and follows its confirmation", async () => {
    device("d", { confirmed: false });
    await reconcile("d");
    expect(cond("d")).toMatchObject({ status: "True", reason: "Pending" });
    expect(cond("d", "Confirmed")).toMatchObject({ status: "False", reason: "Pending" });
    expect(kstatus("d")).toBe("Current");

    clock.advance(5_000);
    device("d", { confirmed: true }); // what a successful Setup does
    await reconcile("d");
    expect(cond("d")).toMatchObject({ status: "True", reason: "Confirmed", observedGeneration: 2 });
    expect(cond("d", "Confirmed")).toMatchObject({ status: "True", lastTransitionTime: "2026-01-01T00:00:05Z" });
  });

  it("waits for a missing stage, then stalls keeping the device; works again when the stage is back", async () => {
    device("d", { stageRef: { name: "later" } });
    expect(await reconcile("d")).toEqual({ requeueAfterMs: STAGE_GRACE_MS });
    expect(cond("d")).toMatchObject({ status: "Unknown", reason: "StageNotFound" });
    expect(kstatus("d")).toBe("InProgress");
    clock.advance(STAGE_GRACE_MS);
    await reconcile("d");
    expect(cond("d")).toMatchObject({ status: "False", reason: "StageNotFound" });
    expect(cond("d")?.message).toContain("the device is kept");
    expect(kstatus("d")).toBe("Failed");
    stages.apply({ metadata: { namespace: ns, name: "later" }, spec: {} });
    await reconcile("d");
    expect(cond("d")).toMatchObject({ status: "True", reason: "Confirmed" });
  });

  it("stalls every device of one user and stage while there is more than one, and recovers", async () => {
    device("declared", { confirmed: false });
    device("enrolled");
    device("other-user", { user: { id: "bob" } });
    for (const n of ["declared", "enrolled", "other-user"]) await reconcile(n);
    for (const n of ["declared", "enrolled"]) {
      expect(cond(n)).toMatchObject({ status: "False", reason: "DuplicateDevice" });
      expect(kstatus(n)).toBe("Failed");
    }
    expect(cond("enrolled")?.message).toContain("EmailDevices declared, enrolled are all for user alice");
    expect(JSON.stringify(devices.get(ns, "enrolled")?.status)).not.toContain("alice@example.com");
    expect(cond("other-user")?.status).toBe("True");

    devices.delete(ns, "declared");
    await reconcile("enrolled");
    expect(cond("enrolled")).toMatchObject({ status: "True", reason: "Confirmed" });
  });

  it("leaves a device a Setup flow created to the flow's first status, which it then finds equal to its own", async () => {
    const created = clock.now();
    devices.apply(
      {
        metadata: { namespace: ns, name: "enrolled", labels: { ...MANAGED_BY } },
        spec: { stageRef: { name: "email" }, user: { id: "alice" }, email: "alice@example.com", confirmed: true },
      },
      created,
    );
    // The informer's add arrives before the flow's status write: nothing written, a look later.
    clock.advance(300);
    expect(await reconcile("enrolled")).toEqual({ requeueAfterMs: FIRST_STATUS_GRACE_MS - 300 });
    expect(writes.log).toEqual([]);

    // What confirmDevice writes, at the flow's time; then the reconciler, a moment later, agrees.
    devices.write(devices.get(ns, "enrolled") ?? {}, () => ({
      status: firstConfirmedStatus(ns, "email", 1, created),
    }));
    clock.advance(200);
    expect(await reconcile("enrolled")).toEqual({});
    clock.advance(FIRST_STATUS_GRACE_MS);
    expect(await reconcile("enrolled")).toEqual({});
    expect(writes.log).toEqual([]);
    expect(cond("enrolled")).toMatchObject({ status: "True", reason: "Confirmed", observedGeneration: 1 });
    expect(cond("enrolled", "Confirmed")).toMatchObject({ status: "True" });
    expect(kstatus("enrolled")).toBe("Current");
  });

  it("writes the first status itself when the flow's does not come within the grace, or the device is not the flow's", async () => {
    const labels = { ...MANAGED_BY };
    devices.apply(
      {
        metadata: { namespace: ns, name: "orphan", labels },
        spec: { stageRef: { name: "email" }, user: { id: "alice" }, email: "alice@example.com", confirmed: true },
      },
      clock.now(),
    );
    expect(await reconcile("orphan")).toEqual({ requeueAfterMs: FIRST_STATUS_GRACE_MS });
    clock.advance(FIRST_STATUS_GRACE_MS);
    expect(await reconcile("orphan")).toEqual({});
    expect(cond("orphan")).toMatchObject({ status: "True", reason: "Confirmed" });

    device("declared"); // no managed-by label: a declaration, written at once
    expect(await reconcile("declared")).toEqual({});
    device("pending", { user: { id: "bob" }, confirmed: false });
    expect(await reconcile("pending")).toEqual({});
    expect(writes.log.map((w) => w.name)).toEqual(["orphan", "declared", "pending"]);
  });

  it("stalls on a stored spec this operator cannot read", async () => {
    devices.apply({ metadata: { namespace: ns, name: "odd" }, spec: { stageRef: { name: "email" }, email: "x" } });
    await reconcile("odd");
    expect(cond("odd")).toMatchObject({ status: "False", reason: "InvalidSpec" });
    expect(cond("odd")?.message).toMatch(/user: /);
    expect(kstatus("odd")).toBe("Failed");
  });
});
