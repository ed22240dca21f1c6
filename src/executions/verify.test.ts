// The verify algorithm's branches against in-memory stand-ins that keep the API server's
// resourceVersion rules; the same algorithm against the real API server, under concurrency and
// across two replicas, is in test/integration/executions-races.test.ts.
import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { FakeClock } from "@emailauth/operator-runtime";
import { codeMac } from "./codes.ts";
import { ConflictError } from "./execution-records.ts";
import type { ExecutionId } from "./ids.ts";
import { ContendedError, type Slot } from "./throttle.ts";
import type { ExecutionData, Stored } from "./types.ts";
import { verifyCode, type VerifyInput } from "./verify.ts";

const key = Buffer.alloc(32, 1);
const id = "a".repeat(32) as ExecutionId;
const ADDRESS = "alice@example.com";
const macOf = (code: string) => codeMac(key, { executionId: id, stage: "relay", addressKey: ADDRESS, code });
const conflict = () =>
  new ConflictError(
    "execution",
    new ApiException(409, "Conflict", JSON.stringify({ kind: "Status", code: 409, reason: "Conflict" }), {}),
  );

function setup(opts: { attempts?: number; expiresInMs?: number; failures?: number; decoy?: boolean } = {}) {
  const clock = new FakeClock();
  let rv = 1;
  const record = (seq: number, code: string, attempts = 0): ExecutionData => ({
    id,
    namespace: "ns",
    flow: "login",
    position: 0,
    binding: "b",
    stage: "relay",
    mode: "Authenticate",
    user: { id: "u1" },
    client: "app",
    tokenHash: "f".repeat(64),
    state: "code_sent",
    address: ADDRESS,
    addressFixed: true,
    sends: seq,
    issued: seq,
    challenge: {
      seq,
      mac: macOf(code),
      issuedAt: clock.now().toISOString(),
      expiresAt: new Date(clock.now().getTime() + (opts.expiresInMs ?? 600_000)).toISOString(),
      attempts,
    },
    ...(opts.decoy ? { decoy: { code: "no_device", detail: "none" } } : {}),
    createdAt: clock.now().toISOString(),
    expiresAt: new Date(clock.now().getTime() + 3_600_000).toISOString(),
  });
  const wrap = (data: ExecutionData): Stored<ExecutionData> => ({
    data,
    namespace: "ns",
    name: `eao-x-${id}`,
    uid: "uid-1",
    resourceVersion: String(rv),
    stageUid: "s",
  });
  let current = wrap(record(1, "123456", opts.attempts ?? 0));
  /** Runs before a write lands: lets a test interleave another request. */
  let beforeWrite: () => void = () => {};
  const write = (s: Stored<ExecutionData>, next: ExecutionData) => {
    beforeWrite();
    if (s.resourceVersion !== current.resourceVersion) return Promise.reject(conflict());
    rv++;
    current = wrap(next);
    return Promise.resolve(current);
  };
  const records: VerifyInput["records"] = {
    getExecution: () => Promise.resolve(current),
    updateExecution: (s, next) => write(s, next),
  };
  const slots: string[] = Array.from({ length: opts.failures ?? 0 }, (_, i) => `old-${i}`);
  const throttles: VerifyInput["throttles"] = {
    reserveFailure: (_who, limit) => {
      if (slots.length >= limit)
        return Promise.resolve({ ok: false as const, retryAt: new Date(clock.now().getTime() + 1000), own: 0 });
      const slotId = `s${slots.length}-${Math.random()}`;
      slots.push(slotId);
      return Promise.resolve({
        ok: true as const,
        slot: { id: slotId } as unknown as Slot,
        count: slots.length,
      });
    },
    release: (slot) => {
      const i = slots.indexOf(slot.id);
      if (i >= 0) slots.splice(i, 1);
      return Promise.resolve();
    },
  };
  const verify = (code: string, limits = { attemptsPerCode: 5, failuresPerDay: 10 }) =>
    verifyCode({
      records,
      throttles,
      key,
      clock,
      limits,
      stored: current,
      code,
      complete: (cur, consumed) => write(cur, { ...consumed, state: "completed" }),
    });
  return {
    clock,
    slots,
    verify,
    current: () => current,
    resend: (code: string) => {
      rv++;
      current = wrap(record(current.data.challenge!.seq + 1, code));
    },
    setBeforeWrite: (fn: () => void) => (beforeWrite = fn),
  };
}

describe("verifyCode", () => {
  it("accepts the right code once, consumes it and gives its failure slot back", async () => {
    const t = setup();
    expect(await t.verify("123456")).toMatchObject({ ok: true });
    expect(t.current().data).toMatchObject({ state: "completed", usedSeq: 1 });
    expect(t.current().data.challenge).toBeUndefined();
    expect(t.slots).toEqual([]);
    expect(await t.verify("123456")).toEqual({ ok: false, refusal: { kind: "no_code_pending" } });
  });

  it("counts wrong codes per code and per day, then refuses the spent code, right or not", async () => {
    const t = setup();
    for (let i = 4; i >= 0; i--)
      expect(await t.verify("000000")).toEqual({ ok: false, refusal: { kind: "invalid_code", attemptsLeft: i } });
    expect(t.slots).toHaveLength(5);
    expect(await t.verify("123456")).toEqual({ ok: false, refusal: { kind: "code_spent" } });
    expect(t.slots).toHaveLength(5);
  });

  it("reports the smaller of the per-code and per-day allowances", async () => {
    const t = setup({ failures: 8 });
    expect(await t.verify("000000")).toEqual({ ok: false, refusal: { kind: "invalid_code", attemptsLeft: 1 } });
  });

  it("refuses every code once the daily budget is used, the right one too, with the time it eases", async () => {
    const t = setup({ failures: 10 });
    const r = await t.verify("123456");
    expect(r).toMatchObject({ ok: false, refusal: { kind: "failure_limit" } });
    expect(t.current().data.challenge?.attempts).toBe(0);
  });

  it("expires at expiresAt exactly, by the injected clock, and charges nothing", async () => {
    const t = setup({ expiresInMs: 1000 });
    t.clock.advance(1000);
    expect(await t.verify("123456")).toEqual({ ok: false, refusal: { kind: "code_expired" } });
    expect(t.slots).toEqual([]);
  });

  it("never matches a decoy step", async () => {
    const t = setup({ decoy: true });
    expect(await t.verify("123456")).toMatchObject({ ok: false, refusal: { kind: "invalid_code" } });
  });

  it("tells a code replaced by a resend during the check, and gives the slot back", async () => {
    const t = setup();
    t.setBeforeWrite(() => {
      t.setBeforeWrite(() => {});
      t.resend("654321");
    });
    expect(await t.verify("123456")).toEqual({ ok: false, refusal: { kind: "code_replaced" } });
    expect(t.slots).toEqual([]);
    expect(await t.verify("654321")).toMatchObject({ ok: true });
  });

  it("a right code that loses to another right code is told it was used, and is not a failure", async () => {
    const t = setup();
    const stale = t.current();
    expect(await t.verify("123456")).toMatchObject({ ok: true });
    const late = await verifyCode({
      records: { getExecution: () => Promise.resolve(t.current()), updateExecution: () => Promise.reject(conflict()) },
      throttles: {
        reserveFailure: () => Promise.resolve({ ok: true, slot: { id: "x" } as unknown as Slot, count: 1 }),
        release: () => Promise.resolve(),
      },
      key,
      clock: t.clock,
      limits: { attemptsPerCode: 5, failuresPerDay: 10 },
      stored: stale,
      code: "123456",
      complete: () => Promise.reject(conflict()),
    });
    expect(late).toEqual({ ok: false, refusal: { kind: "code_used" } });
  });

  it("retries a lost write without paying twice, and gives up after a bounded number of rounds", async () => {
    const t = setup();
    let lost = 0;
    t.setBeforeWrite(() => {
      if (lost++ < 2) t.resend.call(undefined, "123456"); // same code, new seq: our read is stale
    });
    // A resend replaced the code: the check says so rather than comparing against the new one.
    expect(await t.verify("123456")).toEqual({ ok: false, refusal: { kind: "code_replaced" } });

    const u = setup();
    const always = {
      records: { getExecution: () => Promise.resolve(u.current()), updateExecution: () => Promise.reject(conflict()) },
      throttles: {
        reserveFailure: () => Promise.resolve({ ok: true as const, slot: { id: "y" } as unknown as Slot, count: 1 }),
        release: () => (released++, Promise.resolve()),
      },
    };
    let released = 0;
    await expect(
      verifyCode({
        ...always,
        key,
        clock: u.clock,
        limits: { attemptsPerCode: 5, failuresPerDay: 10 },
        stored: u.current(),
        code: "000000",
        complete: () => Promise.reject(conflict()),
      }),
    ).rejects.toBeInstanceOf(ContendedError);
    expect(released).toBe(1);
  });

  it("charges malformed input like any wrong code, and refuses nonsensical limits", async () => {
    const t = setup();
    expect(await t.verify("12 34")).toMatchObject({ ok: false, refusal: { kind: "invalid_code", attemptsLeft: 4 } });
    await expect(t.verify("1", { attemptsPerCode: 0, failuresPerDay: 10 })).rejects.toBeInstanceOf(RangeError);
  });
});
