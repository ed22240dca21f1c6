import { describe, expect, it } from "vitest";
import { stageSpec } from "../../kinds/v1alpha1/stage.ts";
import { DEVICE_COUNT_INTERVAL_MS, planStage, type StageInput } from "./policy.ts";

const t0 = new Date("2026-01-01T00:00:00Z");
const t1 = new Date("2026-01-01T00:05:00Z");
const global = { namespace: "ops", configMap: "smtp", secret: "" };
const creds = { metadata: { namespace: "app", name: "creds" }, data: { username: btoa("u"), password: btoa("p") } };

function input(
  spec: unknown,
  extra: Partial<StageInput> = {},
  settings: Partial<StageInput["settings"]> = {},
): StageInput {
  const parsed = stageSpec.parse(spec);
  return {
    namespace: "app",
    name: "email",
    generation: 3,
    spec: parsed,
    settings: { namespace: "app", spec: parsed, global, ...settings },
    flows: [],
    deviceCount: 0,
    configureFlowBindings: [],
    ...extra,
  };
}
const condition = (plan: ReturnType<typeof planStage>, type: string) =>
  plan.status.conditions?.find((c) => c.type === type);

describe("planStage", () => {
  it("is Ready with the resolved connection, flows and device count, never credentials", () => {
    const spec = { connection: { host: "relay", port: 587, useTLS: true, credentialsSecretRef: { name: "creds" } } };
    const plan = planStage(input(spec, { flows: ["b", "a", "b"], deviceCount: 2 }, { credentialsSecret: creds }), t0);
    expect(plan.status).toMatchObject({
      observedGeneration: 3,
      connection: { endpoint: "relay:587", tlsMode: "STARTTLS", source: "Stage" },
      flows: ["a", "b"],
      deviceCount: 2,
    });
    expect(condition(plan, "Ready")).toMatchObject({ status: "True", reason: "Ready", observedGeneration: 3 });
    expect(condition(plan, "Ready")?.message).toBe(
      "sends from system@authentik.local through relay:587 with STARTTLS (required), authenticating (stage settings)",
    );
    expect(condition(plan, "Stalled")?.status).toBe("False");
    expect(JSON.stringify(plan.status)).not.toMatch(/"p"|"u"/);
    expect(plan.event).toEqual({ type: "Normal", reason: "Ready", message: condition(plan, "Ready")?.message });
  });

  it("holds a count-only change until the interval since the last status write is over, capped at the interval", () => {
    const spec = { connection: { host: "relay", port: 587 } };
    const written = planStage(input(spec, { deviceCount: 2 }), t0).status;
    const later = (ms: number) => new Date(t0.getTime() + ms);
    const held = planStage(input(spec, { status: written, deviceCount: 5, statusWrittenAt: t0 }), later(4_000));
    expect(held).toMatchObject({ changed: false, countDueInMs: DEVICE_COUNT_INTERVAL_MS - 4_000 });
    expect(held.status).toEqual(written);
    const due = planStage(input(spec, { status: written, deviceCount: 5, statusWrittenAt: t0 }), later(10_000));
    expect(due).toMatchObject({ changed: true, status: { deviceCount: 5 } });
    expect(due.countDueInMs).toBeUndefined();
    // A clock that stepped back holds for no longer than the interval.
    const skewed = planStage(input(spec, { status: written, deviceCount: 5, statusWrittenAt: later(60_000) }), t0);
    expect(skewed.countDueInMs).toBe(DEVICE_COUNT_INTERVAL_MS);
    // Unknown last write (a restart), or another change: written at once with the new count.
    expect(planStage(input(spec, { status: written, deviceCount: 5 }), later(1_000)).changed).toBe(true);
    const flows = planStage(
      input(spec, { status: written, deviceCount: 5, flows: ["login"], statusWrittenAt: t0 }),
      later(1_000),
    );
    expect(flows).toMatchObject({ changed: true, status: { deviceCount: 5, flows: ["login"] } });
  });

  it("stalls naming the missing Secret, and recovers when it is back", () => {
    const spec = { connection: { credentialsSecretRef: { name: "creds" } } };
    const broken = planStage(input(spec, {}, { credentialsSecret: null }), t0);
    expect(condition(broken, "Ready")).toMatchObject({
      status: "False",
      reason: "SecretNotFound",
      message: "the credentials Secret app/creds does not exist",
    });
    expect(condition(broken, "Stalled")?.status).toBe("True");
    expect(broken.status.connection).toBeUndefined();
    expect(broken.settings).toBeUndefined();
    expect(broken.event?.type).toBe("Warning");

    const fixed = planStage(input(spec, { status: broken.status }, { credentialsSecret: creds }), t1);
    expect(condition(fixed, "Ready")).toMatchObject({ status: "True", lastTransitionTime: "2026-01-01T00:05:00Z" });
    expect(condition(fixed, "Stalled")).toMatchObject({ status: "False", lastTransitionTime: "2026-01-01T00:05:00Z" });
  });

  it("does not ask for a write or an Event when nothing changed", () => {
    const first = planStage(input({}), t0);
    const again = planStage(input({}, { status: first.status }), t1);
    expect(again.changed).toBe(false);
    expect(again.event).toBeUndefined();
    expect(condition(again, "Ready")?.lastTransitionTime).toBe("2026-01-01T00:00:00Z");
  });

  it("reports an unusable template as Stalled", () => {
    const spec = { templateRef: { name: "tpl" } };
    const cm = (data: Record<string, string>) => ({ metadata: { name: "tpl" }, data });
    expect(condition(planStage(input(spec, { templateConfigMap: null }), t0), "Ready")?.reason).toBe(
      "TemplateNotFound",
    );
    const noText = planStage(input(spec, { templateConfigMap: cm({ "email_otp.html": "{{ code }}" }) }), t0);
    expect(condition(noText, "Ready")?.message).toBe("the template ConfigMap app/tpl has no key email_otp.txt");
    const bad = planStage(
      input(spec, { templateConfigMap: cm({ "email_otp.html": "{{ code }}", "email_otp.txt": "{{ cod }}" }) }),
      t0,
    );
    expect(condition(bad, "Ready")).toMatchObject({ reason: "InvalidTemplate" });
    expect(condition(bad, "Ready")?.message).toMatch(/email_otp\.txt: .*unknown placeholder \{\{ cod \}\}/);
    const good = planStage(
      input(spec, { templateConfigMap: cm({ "email_otp.html": "<b>{{ code }}</b>", "email_otp.txt": "{{ code }}" }) }),
      t0,
    );
    expect(condition(good, "Ready")?.status).toBe("True");
  });

  it("adds ConnectionVerified only when checks are enabled", () => {
    expect(condition(planStage(input({}), t0), "ConnectionVerified")).toBeUndefined();
    const spec = { connectionCheck: { enabled: true } };
    expect(condition(planStage(input(spec), t0), "ConnectionVerified")).toMatchObject({
      status: "Unknown",
      reason: "Pending",
    });
    const failed = planStage(
      input(spec, { connectionCheck: { ok: false, reason: "AuthFailed", message: "535 authentication failed" } }),
      t0,
    );
    expect(condition(failed, "ConnectionVerified")).toMatchObject({ status: "False", reason: "AuthFailed" });
    // A failing relay is not a configuration error: the stage stays Ready.
    expect(condition(failed, "Ready")?.status).toBe("True");
  });
});
