import { describe, expect, it } from "vitest";
import { dueSelector, expiryBucket } from "./labels.ts";

describe("expiry buckets", () => {
  it("name the start of an expiry's 10 minutes in UTC, a valid label value", () => {
    expect(expiryBucket(Date.parse("2026-12-01T10:00:00Z"))).toBe("202612011000");
    expect(expiryBucket(Date.parse("2026-12-01T10:09:59.999Z"))).toBe("202612011000");
    expect(expiryBucket(Date.parse("2026-12-01T10:10:00Z"))).toBe("202612011010");
    expect(expiryBucket(Date.parse("2026-12-31T23:55:00+01:00"))).toBe("202612312250");
    expect(expiryBucket(Date.now())).toMatch(/^[0-9]{12}$/);
  });

  it("select the expiring Secrets of the buckets ended within the lookback, not the current one", () => {
    const selector = dueSelector(new Date("2026-12-01T10:05:00Z"), 30 * 60_000);
    expect(selector).toBe(
      "emailauth.dev/component in (execution,challenge,throttle)," +
        "emailauth.dev/expires-bucket in (202612010950,202612010940,202612010930)",
    );
    expect(dueSelector(new Date("2026-12-01T10:10:00Z"), 10 * 60_000)).toContain("in (202612011000)");
    // A day back: 144 buckets, well within what an API server takes in a URL.
    const day = dueSelector(new Date("2026-12-01T10:05:00Z"), 24 * 60 * 60_000);
    expect(day.match(/[0-9]{12}/g)).toHaveLength(144);
    expect(day).toContain("202611301000)");
    expect(day.length).toBeLessThan(2100);
  });
});
