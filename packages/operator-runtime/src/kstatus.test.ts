import { describe, expect, it } from "vitest";
import { readinessConditions } from "./conditions.ts";
import { computeKStatus } from "./kstatus.ts";
import type { KStatus, KStatusCondition, KStatusObject } from "./kstatus.ts";

const cond = (type: string, status: string, reason = "R", message = `${type} is ${status}`): KStatusCondition => ({
  type,
  status,
  reason,
  message,
});

function obj(conditions: KStatusCondition[], generation = 2, observedGeneration = 2): KStatusObject {
  return { kind: "EmailAuthenticatorStage", metadata: { generation }, status: { observedGeneration, conditions } };
}

describe("computeKStatus", () => {
  const table: [string, KStatusObject, KStatus][] = [
    [
      "deletion wins over everything",
      {
        metadata: { generation: 1, deletionTimestamp: "2026-01-01T00:00:00Z" },
        status: { conditions: [cond("Ready", "True")] },
      },
      "Terminating",
    ],
    [
      "deletionTimestamp as a Date (client-node typed objects)",
      { metadata: { deletionTimestamp: new Date() } },
      "Terminating",
    ],
    ["generation not yet observed, even if Ready", obj([cond("Ready", "True")], 3, 2), "InProgress"],
    ["no status at all reads Current", { metadata: { generation: 1 } }, "Current"],
    [
      "observedGeneration missing skips the generation check",
      { metadata: { generation: 5 }, status: { conditions: [cond("Ready", "True")] } },
      "Current",
    ],
    ["Ready=True", obj([cond("Ready", "True"), cond("Reconciling", "False"), cond("Stalled", "False")]), "Current"],
    ["Ready=False is in progress, not failed", obj([cond("Ready", "False")]), "InProgress"],
    ["Ready=Unknown is in progress", obj([cond("Ready", "Unknown")]), "InProgress"],
    ["Reconciling=True", obj([cond("Ready", "True"), cond("Reconciling", "True")]), "InProgress"],
    ["Stalled=True fails", obj([cond("Ready", "False"), cond("Stalled", "True")]), "Failed"],
    ["Stalled=True fails even next to Ready=True", obj([cond("Ready", "True"), cond("Stalled", "True")]), "Failed"],
    [
      "the first of Reconciling/Stalled in list order decides",
      obj([cond("Stalled", "True"), cond("Reconciling", "True")]),
      "Failed",
    ],
    [
      "the first of Reconciling/Stalled in list order decides (reverse)",
      obj([cond("Reconciling", "True"), cond("Stalled", "True")]),
      "InProgress",
    ],
    [
      "Stalled=False and Reconciling=False alone read Current",
      obj([cond("Stalled", "False"), cond("Reconciling", "False")]),
      "Current",
    ],
    ["unrelated conditions read Current", obj([cond("CredentialsResolved", "False")]), "Current"],
  ];
  it.each(table)("%s", (_name, input, expected) => {
    expect(computeKStatus(input).status).toBe(expected);
  });

  it("explains a generation mismatch like kstatus does", () => {
    expect(computeKStatus(obj([], 4, 1))).toEqual({
      status: "InProgress",
      reason: "LatestGenerationNotObserved",
      message: "EmailAuthenticatorStage generation is 4, but latest observed generation is 1",
    });
  });

  it("carries the deciding condition's reason and message", () => {
    expect(computeKStatus(obj([cond("Stalled", "True", "SecretNotFound", 'secret "smtp" not found')]))).toEqual({
      status: "Failed",
      reason: "SecretNotFound",
      message: 'secret "smtp" not found',
    });
  });
});

describe("readinessConditions as kstatus reads them", () => {
  const now = new Date("2026-03-01T10:00:00Z");
  const withStatus = (generation: number, conditions: ReturnType<typeof readinessConditions>): KStatusObject => ({
    metadata: { generation },
    status: { observedGeneration: generation, conditions },
  });

  it("is Current when ready, Failed only when stalled, InProgress while reconciling", () => {
    const ready = readinessConditions({ generation: 1, ready: { reason: "Configured", message: "ok" } }, now);
    const stalled = readinessConditions(
      { generation: 1, stalled: { reason: "InvalidSecretRef", message: "no key" } },
      now,
    );
    const reconciling = readinessConditions(
      { generation: 1, reconciling: { reason: "Progressing", message: "retrying" } },
      now,
    );
    expect(computeKStatus(withStatus(1, ready)).status).toBe("Current");
    expect(computeKStatus(withStatus(1, stalled)).status).toBe("Failed");
    expect(computeKStatus(withStatus(1, reconciling)).status).toBe("InProgress");
  });

  it("goes from Failed back to Current once the error is fixed", () => {
    const stalled = readinessConditions(
      { generation: 1, stalled: { reason: "InvalidSecretRef", message: "no key" } },
      now,
    );
    const fixed = readinessConditions({ generation: 2, ready: { reason: "Configured", message: "ok" } }, now, stalled);
    expect(computeKStatus(withStatus(2, fixed)).status).toBe("Current");
    // Until the controller has observed generation 2, it is in progress, not failed.
    expect(
      computeKStatus({ metadata: { generation: 2 }, status: { observedGeneration: 1, conditions: stalled } }).status,
    ).toBe("InProgress");
  });
});
