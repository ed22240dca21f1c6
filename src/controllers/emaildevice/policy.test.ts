import { describe, expect, it } from "vitest";
import { computeKStatus } from "@emailauth/operator-runtime";
import { emailDeviceSpec } from "../../kinds/v1alpha1/emaildevice.ts";
import { STAGE_GRACE_MS } from "../missing-stage.ts";
import { composeStatus } from "../status.ts";
import { type EmailDeviceInput, planEmailDevice } from "./policy.ts";

const now = new Date("2026-01-01T00:00:00Z");
const spec = (confirmed: boolean) =>
  emailDeviceSpec.parse({ stageRef: { name: "email" }, user: { id: "u1" }, email: "a@example.com", confirmed });
const input = (extra: Partial<EmailDeviceInput>): EmailDeviceInput => ({
  namespace: "app",
  name: "dev",
  spec: spec(true),
  createdAt: new Date(now.getTime() - 3_600_000),
  stageExists: true,
  sameUser: [],
  ...extra,
});
const statusOf = (i: EmailDeviceInput, at = now) => composeStatus(1, undefined, planEmailDevice(i, at), at);
const cond = (i: EmailDeviceInput, type = "Ready", at = now) => statusOf(i, at).conditions.find((c) => c.type === type);
const kstatusOf = (i: EmailDeviceInput, at = now) =>
  computeKStatus({ metadata: { generation: 1 }, status: statusOf(i, at) }).status;

describe("planEmailDevice", () => {
  it("is Ready and Confirmed when confirmed and its stage exists, keeping confirmation times", () => {
    const i = input({ status: { confirmedAt: "2025-12-31T00:00:00Z", lastUsedAt: "2025-12-31T01:00:00Z" } });
    expect(cond(i)).toMatchObject({ status: "True", reason: "Confirmed" });
    expect(cond(i, "Confirmed")).toMatchObject({ status: "True", reason: "Confirmed" });
    expect(statusOf(i)).toMatchObject({ confirmedAt: "2025-12-31T00:00:00Z", lastUsedAt: "2025-12-31T01:00:00Z" });
    expect(kstatusOf(i)).toBe("Current");
  });

  it("reads a declared unconfirmed device as Current (Pending), with Confirmed=False", () => {
    const i = input({ spec: spec(false) });
    expect(cond(i)).toMatchObject({ status: "True", reason: "Pending" });
    expect(cond(i)?.message).toContain("cannot be used to authenticate until then");
    expect(cond(i, "Confirmed")).toMatchObject({ status: "False", reason: "Pending" });
    expect(kstatusOf(i)).toBe("Current");
  });

  it("waits briefly for a missing stage, then stalls saying that it keeps the device", () => {
    const fresh = input({ stageExists: false, createdAt: now });
    expect(cond(fresh)).toMatchObject({ status: "Unknown", reason: "StageNotFound" });
    expect(planEmailDevice(fresh, now).requeueAfterMs).toBe(STAGE_GRACE_MS);
    const later = new Date(now.getTime() + STAGE_GRACE_MS);
    expect(cond(fresh, "Ready", later)).toMatchObject({ status: "False", reason: "StageNotFound" });
    expect(cond(fresh, "Ready", later)?.message).toContain(
      "EmailAuthenticatorStage app/email does not exist; the device is kept and is usable again if the stage is re-created",
    );
    expect(kstatusOf(fresh, later)).toBe("Failed");
    expect(kstatusOf(input({ stageExists: false }))).toBe("Failed");
  });

  it("stalls on a second device for the same user and stage, naming both", () => {
    const i = input({ sameUser: ["b-dev"] });
    expect(cond(i)).toMatchObject({ status: "False", reason: "DuplicateDevice" });
    expect(cond(i)?.message).toBe(
      "EmailDevices b-dev, dev are all for user u1 of EmailAuthenticatorStage app/email; a user has one device per stage, so none of them is used until all but one are deleted",
    );
    expect(cond(i)?.message).not.toContain("a@example.com");
    expect(kstatusOf(i)).toBe("Failed");
  });
});
