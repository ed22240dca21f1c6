import { type Condition as RuntimeCondition, readinessConditions } from "@emailauth/operator-runtime";
import { describe, expect, it } from "vitest";
import { type Condition, conditions } from "./common.ts";

// Compile-time: what the runtime's condition helpers produce is what the CRD schema accepts.
const _fitsSchema = (c: RuntimeCondition): Condition => c;
void _fitsSchema;

describe("conditions schema", () => {
  it("accepts the conditions the runtime writes for each readiness", () => {
    const now = new Date("2026-03-01T10:00:00.123Z");
    for (const readiness of [
      { ready: { reason: "Ready", message: "ok" } },
      { stalled: { reason: "SecretNotFound", message: "missing" } },
      { reconciling: { reason: "Progressing", message: "waiting" } },
    ] as const) {
      const list = readinessConditions({ generation: 3, ...readiness }, now);
      expect(conditions.safeParse(list).success).toBe(true);
    }
  });
});
