import type { Secret } from "@emailauth/operator-runtime";
import { describe, expect, it } from "vitest";
import { EXPIRES_AT_ANNOTATION } from "../../kinds/labels.ts";
import { expiredExecutions } from "./expired.ts";

const secret = (name: string, expires?: string): Secret => ({
  metadata: { name, annotations: expires === undefined ? {} : { [EXPIRES_AT_ANNOTATION]: expires } },
});

describe("expiredExecutions", () => {
  it("picks passed and unreadable expiries, at most max", () => {
    const now = new Date("2026-01-01T00:10:00Z");
    const all = [
      secret("live", "2026-01-01T00:20:00Z"),
      secret("old", "2026-01-01T00:00:00Z"),
      secret("exact", "2026-01-01T00:10:00Z"),
      secret("bad", "soon"),
      secret("none"),
    ];
    expect(expiredExecutions(all, now, 10).map((s) => s.metadata?.name)).toEqual(["old", "exact", "bad", "none"]);
    expect(expiredExecutions(all, now, 2).map((s) => s.metadata?.name)).toEqual(["old", "exact"]);
  });
});
