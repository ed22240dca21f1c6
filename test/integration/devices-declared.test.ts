// Devices are matched by stage and user, not by name (issue 7 §7), against the real API server:
// a Setup for a user with a declared device confirms that device instead of creating a second
// one, a declared device for another address is not replaced, and a user with two devices for
// one stage gets neither picked nor a third created. A device it creates gets its whole first
// status from the flow, equal to what the device reconciler plans, so that writes nothing.
import { FakeClock } from "@emailauth/operator-runtime";
import { beforeAll, describe, expect, it } from "vitest";
import {
  confirmDevice,
  DeviceExistsError,
  deviceName,
  type DeviceObject,
  findConfirmedDevice,
  type UserDevices,
} from "../../src/devices/devices.ts";
import { EmailDeviceReconciler } from "../../src/controllers/emaildevice/reconciler.ts";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import { decodeEmailDevice, type StageObject } from "../../src/kinds/v1alpha1/objects.ts";
import { RelatedObjects } from "../../src/operator/related-objects.ts";
import { controlPlane, createTestNamespace } from "../harness/context.ts";
import { objects } from "../harness/objects.ts";
import { customObjectsApi, KubeClient } from "@emailauth/operator-runtime";

const plane = controlPlane();
const admin = plane.admin();
const custom = customObjectsApi(new KubeClient(admin));
const now = new Date("2026-01-01T00:00:00Z");
let ns = "";
let k: ReturnType<typeof objects>;

/** The operator's index of users' devices over what its cache would hold, read straight from the API server. */
async function cache(): Promise<UserDevices> {
  const { items } = (await custom.listNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    plural: "emaildevices",
    namespace: ns,
  })) as { items: DeviceObject[] };
  const related = new RelatedObjects();
  for (const raw of items) {
    const device = decodeEmailDevice(raw);
    if (device instanceof Error) throw device;
    related.devices.set(device);
  }
  return { of: (namespace, stage, user) => related.devicesOfUser(namespace, stage, user) };
}
const declare = (name: string, user: string, email: string, confirmed?: boolean) =>
  k.create("emaildevices", name, {
    stageRef: { name: "email" },
    user: { id: user },
    email,
    ...(confirmed === undefined ? {} : { confirmed }),
  });
const confirm = async (user: string, address: string) => {
  const saved = await confirmDevice(custom, {
    namespace: ns,
    stage: "email",
    user: { id: user },
    address,
    now,
    devices: await cache(),
  });
  await saved.writeStatus();
  return saved.name;
};

beforeAll(async () => {
  ns = await createTestNamespace(admin, "devices");
  k = objects(admin, ns);
});

describe("devices by stage and user", () => {
  it("confirms a declared pending device in place, creating no second one", async () => {
    await declare("alice-declared", "alice", "alice@example.com");
    expect(await confirm("alice", "alice@example.com")).toBe("alice-declared");
    const device = await k.get("emaildevices", "alice-declared");
    expect(device?.spec.confirmed).toBe(true);
    expect(device?.status?.confirmedAt).toBe("2026-01-01T00:00:00Z");
    expect(await k.get("emaildevices", deviceName("email", "alice"))).toBeUndefined();
    expect(findConfirmedDevice(await cache(), ns, "email", "alice")?.metadata?.name).toBe("alice-declared");
  });

  it("refuses a proven address other than the declared one, and leaves the declaration alone", async () => {
    await declare("bob-declared", "bob", "bob@example.com", false);
    await expect(confirm("bob", "other@example.com")).rejects.toThrow(DeviceExistsError);
    expect((await k.get("emaildevices", "bob-declared"))?.spec).toMatchObject({ confirmed: false });
    expect(await k.get("emaildevices", deviceName("email", "bob"))).toBeUndefined();
  });

  it("with two devices for one user and stage, picks neither and creates no third", async () => {
    await declare("carol-a", "carol", "carol@example.com", true);
    await declare("carol-b", "carol", "carol@example.org", true);
    expect(findConfirmedDevice(await cache(), ns, "email", "carol")).toBeUndefined();
    await expect(confirm("carol", "carol@example.com")).rejects.toThrow(/2 email devices for stage email/);
    expect(await k.get("emaildevices", deviceName("email", "carol"))).toBeUndefined();
  });

  it("still creates the derived-name device for a user without one", async () => {
    expect(await confirm("dave", "dave@example.com")).toBe(deviceName("email", "dave"));
    expect(findConfirmedDevice(await cache(), ns, "email", "dave")?.spec?.email).toBe("dave@example.com");
  });

  it("gives a device it creates its whole first status, which the device reconciler then leaves as it is", async () => {
    const name = await confirm("erin", "erin@example.com");
    const stored = (await k.get("emaildevices", name)) as DeviceObject;
    expect(stored.status).toMatchObject({
      observedGeneration: 1,
      confirmedAt: "2026-01-01T00:00:00Z",
      lastUsedAt: "2026-01-01T00:00:00Z",
    });
    expect(stored.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ["Ready", "True", "Confirmed"],
      ["Reconciling", "False", "Confirmed"],
      ["Stalled", "False", "Confirmed"],
      ["Confirmed", "True", "Confirmed"],
    ]);
    // The reconciler, a minute later, with the stored object in its cache and the stage present.
    const device = decodeEmailDevice(stored);
    if (device instanceof Error) throw device;
    const written: string[] = [];
    const reconciler = new EmailDeviceReconciler({
      devices: { get: (_n, n) => (n === name ? device : undefined), list: () => [device] },
      stages: { get: () => ({ metadata: { namespace: ns, name: "email" } }) as StageObject, list: () => [] },
      related: { devicesOfUser: () => [device] },
      writes: {
        status: (_r, o) => Promise.resolve(void written.push(o.metadata?.name ?? "")),
        finalizer: () => Promise.resolve(),
      },
      clock: new FakeClock(new Date(now.getTime() + 60_000)),
    });
    expect(await reconciler.reconcile({ namespace: ns, name })).toEqual({});
    expect(written).toEqual([]);
  });
});
