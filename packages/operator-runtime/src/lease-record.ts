// The leader-election record kept in a coordination.k8s.io/v1 Lease, and the pure rules of
// client-go's LeaseLock/LeaderElector for changing it. Kept free of I/O so the rules are tested
// on their own; leader.ts does the timing and lease-lock.ts the API calls.
// acquireTime/renewTime are MicroTime strings: six fractional digits, which the API server's
// parser insists on (a plain ISO string's three are refused).
import { type LeaseSpec, microTime } from "./kube-types.ts";

export interface LeaderRecord {
  /** "" when nobody holds the lease (after a release). */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: Date;
  readonly renewTime: Date;
  readonly leaseTransitions: number;
}

export function recordFromLease(spec: LeaseSpec | undefined): LeaderRecord {
  return {
    holderIdentity: spec?.holderIdentity ?? "",
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    acquireTime: toDate(spec?.acquireTime),
    renewTime: toDate(spec?.renewTime),
    leaseTransitions: spec?.leaseTransitions ?? 0,
  };
}

export function leaseSpecFrom(record: LeaderRecord): LeaseSpec {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    acquireTime: microTime(record.acquireTime),
    renewTime: microTime(record.renewTime),
    leaseTransitions: record.leaseTransitions,
  };
}

/**
 * Whether another identity holds the lease: it names a holder other than us, and less than
 * its lease duration has passed since *we* saw the record change. Like client-go, expiry is
 * judged by our own clock from when we observed the last renewal, never by the renewTime
 * written by another machine whose clock may be skewed.
 */
export function heldByOther(record: LeaderRecord, identity: string, observedAtMs: number, nowMs: number): boolean {
  if (record.holderIdentity === "" || record.holderIdentity === identity) return false;
  return observedAtMs + record.leaseDurationSeconds * 1000 > nowMs;
}

/** The record that acquires (from someone else, or nobody) or renews (our own) the lease. */
export function claimRecord(
  current: LeaderRecord | undefined,
  identity: string,
  leaseDurationSeconds: number,
  now: Date,
): LeaderRecord {
  if (current && current.holderIdentity === identity) {
    return { ...current, leaseDurationSeconds, renewTime: now };
  }
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: current ? current.leaseTransitions + 1 : 0,
  };
}

/** What a leader writes when it steps down: no holder, and a 1 s duration so nobody waits. */
export function releaseRecord(current: LeaderRecord, now: Date): LeaderRecord {
  return {
    holderIdentity: "",
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: current.leaseTransitions,
  };
}

/** Whether two records differ in anything a renewal or a takeover changes. */
export function sameRecord(a: LeaderRecord, b: LeaderRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.leaseDurationSeconds === b.leaseDurationSeconds &&
    a.leaseTransitions === b.leaseTransitions &&
    a.acquireTime.getTime() === b.acquireTime.getTime() &&
    a.renewTime.getTime() === b.renewTime.getTime()
  );
}

function toDate(value: unknown): Date {
  if (value instanceof Date) return new Date(value.getTime());
  if (typeof value === "string" || typeof value === "number") {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return new Date(0);
}
