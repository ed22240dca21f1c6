import { describe, expect, it } from "vitest";
import { claimRecord, heldByOther, leaseSpecFrom, recordFromLease, releaseRecord, sameRecord } from "./lease-record.ts";
import type { LeaderRecord } from "./lease-record.ts";

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const held = (holderIdentity: string, leaseDurationSeconds = 15): LeaderRecord => ({
  holderIdentity,
  leaseDurationSeconds,
  acquireTime: t(0),
  renewTime: t(10),
  leaseTransitions: 2,
});

describe("reading and writing the Lease spec", () => {
  it("reads MicroTime strings, with or without fractional digits", () => {
    const r = recordFromLease({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: "2026-01-01T00:00:00.123456Z",
      renewTime: "2026-01-01T00:00:05Z",
      leaseTransitions: 3,
    });
    expect(r).toEqual({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: new Date("2026-01-01T00:00:00.123Z"),
      renewTime: t(5),
      leaseTransitions: 3,
    });
  });

  it("treats missing fields as an unheld, long-expired lease", () => {
    expect(recordFromLease(undefined)).toEqual({
      holderIdentity: "",
      leaseDurationSeconds: 0,
      acquireTime: new Date(0),
      renewTime: new Date(0),
      leaseTransitions: 0,
    });
  });

  it("writes MicroTime with the six fractional digits the API server requires", () => {
    const spec = leaseSpecFrom({ ...held("a"), renewTime: new Date("2026-01-01T00:00:10.250Z") });
    expect(spec).toMatchObject({
      holderIdentity: "a",
      renewTime: "2026-01-01T00:00:10.250000Z",
      leaseTransitions: 2,
    });
  });
});

describe("heldByOther", () => {
  const observedAt = t(100).getTime();
  it("is true for another holder until its duration has passed since we observed the record", () => {
    expect(heldByOther(held("b"), "a", observedAt, observedAt + 14_999)).toBe(true);
    expect(heldByOther(held("b"), "a", observedAt, observedAt + 15_000)).toBe(false);
  });

  it("ignores the renewTime another machine wrote (its clock may be skewed)", () => {
    const ancient = { ...held("b"), renewTime: new Date(0) };
    expect(heldByOther(ancient, "a", observedAt, observedAt + 1000)).toBe(true);
  });

  it("is false for our own lease and for a released one", () => {
    expect(heldByOther(held("a"), "a", observedAt, observedAt)).toBe(false);
    expect(heldByOther(held(""), "a", observedAt, observedAt)).toBe(false);
  });
});

describe("claimRecord and releaseRecord", () => {
  it("creates a fresh record with no transitions", () => {
    expect(claimRecord(undefined, "a", 15, t(1))).toEqual({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: t(1),
      renewTime: t(1),
      leaseTransitions: 0,
    });
  });

  it("renews our own lease: same acquire time and transitions, new renew time", () => {
    expect(claimRecord(held("a"), "a", 15, t(20))).toEqual({ ...held("a"), renewTime: t(20) });
  });

  it("takes over another's or a released lease as a new transition", () => {
    expect(claimRecord(held("b"), "a", 15, t(30))).toEqual({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: t(30),
      renewTime: t(30),
      leaseTransitions: 3,
    });
    expect(claimRecord(releaseRecord(held("b"), t(25)), "a", 15, t(30)).leaseTransitions).toBe(3);
  });

  it("releases with no holder and a one-second duration", () => {
    expect(releaseRecord(held("a"), t(40))).toEqual({
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTime: t(40),
      renewTime: t(40),
      leaseTransitions: 2,
    });
  });

  it("compares records by value", () => {
    expect(sameRecord(held("a"), { ...held("a"), renewTime: t(10) })).toBe(true);
    expect(sameRecord(held("a"), { ...held("a"), renewTime: t(11) })).toBe(false);
    expect(sameRecord(held("a"), held("b"))).toBe(false);
  });
});
