import { describe, expect, it } from "vitest";
import {
  findCondition,
  formatTime,
  MAX_CONDITION_MESSAGE,
  readinessConditions,
  setCondition,
  statusEqual,
  truncateMessage,
} from "./conditions.ts";
import type { Condition } from "./conditions.ts";

const t0 = new Date("2026-03-01T10:00:00.123Z");
const t1 = new Date("2026-03-01T11:30:00.999Z");

describe("setCondition", () => {
  it("appends a new condition stamped with the time in whole seconds", () => {
    const list = setCondition(
      undefined,
      { type: "Ready", status: "False", observedGeneration: 1, reason: "Pending", message: "m" },
      t0,
    );
    expect(list).toEqual([
      {
        type: "Ready",
        status: "False",
        observedGeneration: 1,
        lastTransitionTime: "2026-03-01T10:00:00Z",
        reason: "Pending",
        message: "m",
      },
    ]);
  });

  it("keeps lastTransitionTime when the status stays, and updates everything else", () => {
    const before = setCondition(
      [],
      { type: "Ready", status: "False", observedGeneration: 1, reason: "A", message: "a" },
      t0,
    );
    const after = setCondition(
      before,
      { type: "Ready", status: "False", observedGeneration: 2, reason: "B", message: "b" },
      t1,
    );
    expect(after).toEqual([
      {
        type: "Ready",
        status: "False",
        observedGeneration: 2,
        lastTransitionTime: "2026-03-01T10:00:00Z",
        reason: "B",
        message: "b",
      },
    ]);
  });

  it("moves lastTransitionTime when the status changes", () => {
    const before = setCondition([], { type: "Ready", status: "False", reason: "A", message: "" }, t0);
    const after = setCondition(before, { type: "Ready", status: "True", reason: "A", message: "" }, t1);
    expect(after[0]?.lastTransitionTime).toBe("2026-03-01T11:30:00Z");
  });

  it("replaces in place, keeps other conditions and does not mutate its input", () => {
    const list = [
      { type: "A", status: "True", lastTransitionTime: "2026-01-01T00:00:00Z", reason: "X", message: "" },
      {
        type: "B",
        status: "True",
        observedGeneration: 1,
        lastTransitionTime: "2026-01-01T00:00:00Z",
        reason: "X",
        message: "",
      },
    ] satisfies Condition[];
    const snapshot = structuredClone(list);
    const next = setCondition(list, { type: "B", status: "False", reason: "Y", message: "changed" }, t0);
    expect(next.map((c) => c.type)).toEqual(["A", "B"]);
    expect(next[0]).toBe(list[0]);
    expect(next[1]).not.toHaveProperty("observedGeneration");
    expect(list).toEqual(snapshot);
  });

  it("refuses a reason the API server would reject", () => {
    for (const reason of ["", "has space", "1Leading", "Trailing:", "x".repeat(1025)]) {
      expect(() => setCondition([], { type: "Ready", status: "True", reason, message: "" }, t0)).toThrow(TypeError);
    }
    expect(() =>
      setCondition([], { type: "Ready", status: "True", reason: "Ok_1,a:b", message: "" }, t0),
    ).not.toThrow();
  });

  it("truncates a long message to the API limit", () => {
    const [c] = setCondition([], { type: "Ready", status: "False", reason: "Big", message: "x".repeat(100_000) }, t0);
    expect(c?.message.length).toBe(MAX_CONDITION_MESSAGE);
    expect(c?.message.endsWith("…")).toBe(true);
  });
});

describe("truncateMessage", () => {
  it("leaves messages within the limit alone", () => {
    expect(truncateMessage("short", 10)).toBe("short");
    expect(truncateMessage("exactly10!", 10)).toBe("exactly10!");
  });

  it("never splits a surrogate pair", () => {
    const text = `abc${"😀".repeat(10)}`; // 😀 is two UTF-16 units
    expect(truncateMessage(text, 8)).toBe("abc😀😀…");
    const cut = truncateMessage(text, 7); // the cut would fall inside the second 😀
    expect(cut).toBe("abc😀…");
    expect(cut.isWellFormed()).toBe(true);
  });
});

describe("findCondition and formatTime", () => {
  it("finds by type", () => {
    const list = readinessConditions({ generation: 1, ready: { reason: "Ok", message: "" } }, t0);
    expect(findCondition(list, "Stalled")?.status).toBe("False");
    expect(findCondition(list, "Missing")).toBeUndefined();
    expect(findCondition(undefined, "Ready")).toBeUndefined();
  });

  it("formats whole seconds in UTC", () => {
    expect(formatTime(new Date("2026-03-01T10:00:00.999+02:00"))).toBe("2026-03-01T08:00:00Z");
  });
});

describe("statusEqual", () => {
  it("ignores key order, including nested objects", () => {
    expect(statusEqual({ a: 1, b: { c: [1, { d: 2, e: 3 }] } }, { b: { c: [1, { e: 3, d: 2 }] }, a: 1 })).toBe(true);
  });

  it("treats undefined properties as absent, as JSON does", () => {
    expect(statusEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
    expect(statusEqual({ a: 1 }, { a: 1, b: undefined })).toBe(true);
  });

  it("sees differences in values, keys, array order and types", () => {
    expect(statusEqual({ a: 1 }, { a: 2 })).toBe(false);
    expect(statusEqual({ a: 1 }, { b: 1 })).toBe(false);
    expect(statusEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(statusEqual([1, 2], [2, 1])).toBe(false);
    expect(statusEqual([1], { 0: 1 })).toBe(false);
    expect(statusEqual(null, {})).toBe(false);
    expect(statusEqual("1", 1)).toBe(false);
  });

  it("says a recomputed status with nothing new needs no write", () => {
    const first = {
      observedGeneration: 3,
      conditions: readinessConditions({ generation: 3, ready: { reason: "Ok", message: "m" } }, t0),
    };
    const again = {
      conditions: readinessConditions({ generation: 3, ready: { reason: "Ok", message: "m" } }, t1, first.conditions),
      observedGeneration: 3,
    };
    expect(statusEqual(first, again)).toBe(true);
    const changed = {
      ...again,
      conditions: readinessConditions({ generation: 3, ready: { reason: "Ok", message: "new" } }, t1, again.conditions),
    };
    expect(statusEqual(first, changed)).toBe(false);
  });
});

describe("readinessConditions", () => {
  const statuses = (list: Condition[]) => Object.fromEntries(list.map((c) => [c.type, c.status]));

  it("produces the triple for each state, with the generation on every condition", () => {
    const ready = readinessConditions({ generation: 7, ready: { reason: "Configured", message: "in use" } }, t0);
    expect(statuses(ready)).toEqual({ Ready: "True", Reconciling: "False", Stalled: "False" });
    expect(ready.every((c) => c.observedGeneration === 7 && c.reason === "Configured")).toBe(true);
    expect(findCondition(ready, "Ready")?.message).toBe("in use");
    expect(findCondition(ready, "Stalled")?.message).toBe("");

    const stalled = readinessConditions(
      { generation: 7, stalled: { reason: "InvalidSecretRef", message: "no key" } },
      t0,
    );
    expect(statuses(stalled)).toEqual({ Ready: "False", Reconciling: "False", Stalled: "True" });
    expect(findCondition(stalled, "Stalled")?.message).toBe("no key");
    expect(findCondition(stalled, "Ready")?.message).toBe("no key");

    const reconciling = readinessConditions(
      { generation: 7, reconciling: { reason: "Progressing", message: "waiting" } },
      t0,
    );
    expect(statuses(reconciling)).toEqual({ Ready: "Unknown", Reconciling: "True", Stalled: "False" });
  });

  it("keeps other conditions and transition times that did not change", () => {
    const previous: Condition[] = [
      {
        type: "CredentialsResolved",
        status: "True",
        lastTransitionTime: "2026-01-01T00:00:00Z",
        reason: "Found",
        message: "",
      },
      ...readinessConditions({ generation: 1, reconciling: { reason: "Progressing", message: "" } }, t0),
    ];
    const next = readinessConditions({ generation: 2, ready: { reason: "Configured", message: "" } }, t1, previous);
    expect(next[0]).toBe(previous[0]);
    expect(findCondition(next, "Stalled")?.lastTransitionTime).toBe("2026-03-01T10:00:00Z");
    expect(findCondition(next, "Ready")?.lastTransitionTime).toBe("2026-03-01T11:30:00Z");
    expect(findCondition(next, "Reconciling")?.lastTransitionTime).toBe("2026-03-01T11:30:00Z");
  });
});
