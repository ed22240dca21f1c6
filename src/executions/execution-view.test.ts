import { describe, expect, it } from "vitest";
import { stageSpec } from "../kinds/v1alpha1/stage.ts";
import { answer, resendAvailableAt, snapshot, type StageSpecs } from "./execution-view.ts";
import type { ExecutionId } from "./ids.ts";
import type { ExecutionData, Stored } from "./types.ts";

const T0 = Date.parse("2026-12-01T10:00:00Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();
// One stage with a 90 s cooldown and 8 digits; any other stage name is missing.
const stages: StageSpecs = {
  get: (namespace, name) =>
    namespace === "ns" && name === "email"
      ? { uid: "uid-1", spec: stageSpec.parse({ codeLength: 8, limits: { resendCooldownSeconds: 90 } }) }
      : undefined,
};

const record = (extra: Partial<ExecutionData> = {}): ExecutionData => ({
  id: "0123456789abcdef0123456789abcdef" as ExecutionId,
  namespace: "ns",
  flow: "login",
  position: 0,
  binding: "b",
  stage: "email",
  mode: "Authenticate",
  user: { id: "u1" },
  client: "system:serviceaccount:ns:app",
  tokenHash: "f".repeat(64),
  state: "code_sent",
  address: "user@example.com",
  addressFixed: true,
  sends: 1,
  issued: 1,
  createdAt: at(0),
  expiresAt: at(3600),
  ...extra,
});
const stored = (data: ExecutionData): Stored<ExecutionData> => ({
  data,
  namespace: "ns",
  name: `eao-x-${data.id}`,
  uid: "secret-uid",
  resourceVersion: "7",
  stageUid: "uid-1",
});
const decoy = { code: "no_device", detail: "the user has no confirmed email device for stage email" };
const denial = { code: "device_exists", detail: "the user already has a confirmed email device" };

describe("the execution as each audience sees it", () => {
  it("shows the application a decoy step as the denial it is, without its address", () => {
    const seen = snapshot(stages, record({ decoy }), false).record;
    expect(seen).toMatchObject({ state: "denied", denial: decoy });
    expect(seen.address).toBeUndefined();
    expect(seen.decoy).toBeUndefined();
  });

  it("shows the end user a decoy step as an ordinary code step", () => {
    const seen = snapshot(stages, record({ decoy }), true).record;
    expect(seen).toMatchObject({ state: "code_sent", address: "user@example.com" });
    expect(seen.denial).toBeUndefined();
    expect(seen.decoy).toBeUndefined();
  });

  it("tells the application why a flow was denied, and the end user only that it was", () => {
    const denied = record({ state: "denied", denial });
    expect(snapshot(stages, denied, false).record.denial).toEqual(denial);
    expect(snapshot(stages, denied, true).record.denial).toEqual({
      code: "denied",
      detail: "this sign-in cannot continue",
    });
  });

  it("takes the code length from the stage, 6 when the stage is gone", () => {
    expect(snapshot(stages, record(), true).codeLength).toBe(8);
    expect(snapshot(stages, record({ stage: "gone" }), true).codeLength).toBe(6);
  });
});

describe("when a resend becomes possible", () => {
  it("is at once without a send on record, else after the stage's cooldown (60 s without a stage)", () => {
    expect(resendAvailableAt(stages, record()).toISOString()).toBe(at(0));
    expect(resendAvailableAt(stages, record({ lastSentAt: at(10) })).toISOString()).toBe(at(100));
    expect(resendAvailableAt(stages, record({ stage: "gone", lastSentAt: at(10) })).toISOString()).toBe(at(70));
  });
});

describe("answers", () => {
  it("carry the secrets a start hands out", () => {
    expect(answer(stages, { stored: stored(record()) }, false, { token: "t", launchToken: "l" })).toMatchObject({
      ok: true,
      token: "t",
      launchToken: "l",
    });
  });

  it("name a failed send's reason to the application only", () => {
    const progress = { stored: stored(record()), failed: "AuthFailed" as const };
    const app = answer(stages, progress, false);
    const user = answer(stages, progress, true);
    expect(app).toMatchObject({ ok: false, error: { kind: "send_failed", reason: "AuthFailed" } });
    expect(user).toMatchObject({ ok: false, error: { kind: "send_failed" } });
    expect(user.ok ? undefined : user.error).not.toHaveProperty("reason");
  });
});
