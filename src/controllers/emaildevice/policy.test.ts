import { describe, expect, it } from "vitest";
import { emailDeviceSpec } from "../../kinds/v1alpha1/emaildevice.ts";
import { planEmailDevice } from "./policy.ts";

const now = new Date("2026-01-01T00:00:00Z");
const spec = (confirmed: boolean) =>
  emailDeviceSpec.parse({ stageRef: { name: "email" }, user: { id: "u1" }, email: "a@example.com", confirmed });
const ready = (p: ReturnType<typeof planEmailDevice>) => p.status.conditions?.find((c) => c.type === "Ready");

describe("planEmailDevice", () => {
  it("is Ready when confirmed and its stage exists, keeping confirmation times", () => {
    const plan = planEmailDevice(
      {
        namespace: "app",
        generation: 1,
        spec: spec(true),
        stageExists: true,
        status: { confirmedAt: "2025-12-31T00:00:00Z" },
      },
      now,
    );
    expect(ready(plan)).toMatchObject({ status: "True", reason: "Confirmed" });
    expect(plan.status.confirmedAt).toBe("2025-12-31T00:00:00Z");
  });

  it("says that its stage is gone, and stays", () => {
    const plan = planEmailDevice({ namespace: "app", generation: 1, spec: spec(true), stageExists: false }, now);
    expect(ready(plan)).toMatchObject({ status: "False", reason: "StageNotFound" });
    expect(ready(plan)?.message).toContain("EmailAuthenticatorStage app/email does not exist; the device is kept");
  });

  it("waits while unconfirmed", () => {
    expect(
      ready(planEmailDevice({ namespace: "app", generation: 1, spec: spec(false), stageExists: true }, now))?.reason,
    ).toBe("Pending");
  });
});
