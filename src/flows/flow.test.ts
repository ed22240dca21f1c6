import { describe, expect, it } from "vitest";
import { flowPages, resolveFlow } from "./flow.ts";

const ready = {
  observedGeneration: 1,
  conditions: [
    {
      type: "Ready",
      status: "True" as const,
      reason: "Ready",
      message: "ok",
      lastTransitionTime: "2026-01-01T00:00:00Z",
    },
  ],
};
const binding = (name: string, spec: Record<string, unknown>, status: typeof ready | null = ready) => ({
  metadata: { name, generation: 1 },
  spec: { stageRef: { name: "s" }, ...spec },
  ...(status ? { status } : {}),
});

describe("resolveFlow", () => {
  it("orders the flow's bindings by order, then name, and fills in defaults", () => {
    const r = resolveFlow("app", "login", [
      binding("b", { flow: "login", order: 20, intent: "Authenticate" }),
      binding("other", { flow: "enroll", order: 0 }),
      binding("a", { flow: "login", order: 10, stageRef: { name: "first" } }),
    ]);
    expect(r).toEqual({
      ok: true,
      steps: [
        { binding: "a", stage: "first", order: 10, intent: "Setup", whenNoDevice: "Deny" },
        { binding: "b", stage: "s", order: 20, intent: "Authenticate", whenNoDevice: "Deny" },
      ],
    });
  });

  it("is not found without bindings, and not ready while any binding is not", () => {
    expect(resolveFlow("app", "none", [])).toMatchObject({ ok: false, code: "not_found" });
    const stale = { ...ready, observedGeneration: 0 };
    expect(resolveFlow("app", "login", [binding("a", { flow: "login" }, stale)])).toMatchObject({
      ok: false,
      code: "stage_not_ready",
    });
    expect(resolveFlow("app", "login", [binding("a", { flow: "login" }, null)])).toEqual({
      ok: false,
      code: "stage_not_ready",
      detail: "FlowBinding a of flow login is not ready",
    });
  });
});

describe("flowPages", () => {
  it("joins every binding's returnTo entries and takes the first binding's branding", () => {
    const bindings = [
      binding("b", {
        flow: "f",
        order: 2,
        pages: { allowedReturnTo: ["https://b.example/cb", "https://a.example/cb"] },
      }),
      binding("a", {
        flow: "f",
        order: 1,
        pages: { allowedReturnTo: ["https://a.example/cb"], brandingRef: { name: "brand-a" } },
      }),
      binding("c", { flow: "f", order: 3, pages: { brandingRef: { name: "brand-c" } } }),
      binding("other", { flow: "g", pages: { allowedReturnTo: ["https://evil.example/cb"] } }),
    ];
    expect(flowPages("f", bindings)).toEqual({
      allowedReturnTo: ["https://a.example/cb", "https://b.example/cb"],
      brandingConfigMap: "brand-a",
    });
    expect(flowPages("none", bindings)).toEqual({ allowedReturnTo: [] });
  });
});
