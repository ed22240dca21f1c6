// The verify algorithm's branches against in-memory stand-ins that keep resourceVersion rules;
// the same algorithm against the real API server, 50 requests at once, is in
// test/integration/executions-store.test.ts.
import { ApiException } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { FakeClock } from "@emailauth/operator-runtime";
import { codeMac } from "./codes.ts";
import { ConflictError } from "./execution-records.ts";
import type { ExecutionId } from "./ids.ts";
import type { ChallengeData, Stored } from "./types.ts";
import { conflictRounds, verifyCode, type VerifyInput } from "./verify.ts";

const key = Buffer.alloc(32, 1);
const executionId = "a".repeat(32) as ExecutionId;
const base = { namespace: "ns", executionId, stage: "relay", userId: "u1", addressKey: "alice@example.com" };
const conflict = () =>
  new ConflictError(
    "challenge",
    new ApiException(409, "Conflict", JSON.stringify({ kind: "Status", code: 409, reason: "Conflict" }), {}),
  );

function setup(opts: { attempts?: number; expiresInMs?: number; failures?: number[]; stage?: string } = {}) {
  const clock = new FakeClock();
  let rv = 1;
  let current: Stored<ChallengeData> | undefined = {
    namespace: "ns",
    name: `eao-c-${executionId}`,
    uid: "uid-1",
    resourceVersion: String(rv),
    stageUid: "stage-uid",
    data: {
      executionId,
      stage: opts.stage ?? "relay",
      mac: codeMac(key, { ...base, code: "123456" }),
      issuedAt: clock.now().toISOString(),
      expiresAt: new Date(clock.now().getTime() + (opts.expiresInMs ?? 600_000)).toISOString(),
      attempts: opts.attempts ?? 0,
    },
  };
  const failures = [...(opts.failures ?? [])];
  const log: string[] = [];
  /** Runs before each incrementAttempts write lands: lets a test interleave another request. */
  let beforeWrite: () => void = () => {};
  const store: VerifyInput["store"] = {
    getChallenge: () => (log.push("get"), Promise.resolve(current && { ...current, data: { ...current.data } })),
    incrementAttempts: (s) => {
      log.push("increment");
      beforeWrite();
      // As the API server answers: 404 for a deleted object, 409 for a stale resourceVersion.
      if (!current)
        return Promise.reject(
          new ApiException(404, "NotFound", JSON.stringify({ kind: "Status", code: 404, reason: "NotFound" }), {}),
        );
      if (s.resourceVersion !== current.resourceVersion) return Promise.reject(conflict());
      current = {
        ...current,
        resourceVersion: String(++rv),
        data: { ...current.data, attempts: current.data.attempts + 1 },
      };
      return Promise.resolve({ ...current });
    },
    consumeChallenge: (s) => {
      log.push("consume");
      if (!current || s.resourceVersion !== current.resourceVersion || s.uid !== current.uid)
        return Promise.resolve(false);
      current = undefined;
      return Promise.resolve(true);
    },
  };
  const throttles: VerifyInput["throttles"] = {
    retryAt: (_id, limit) =>
      Promise.resolve(
        failures.length >= limit ? new Date((failures[failures.length - limit] ?? 0) + 86_400_000) : undefined,
      ),
    recordFailure: () => (log.push("failure"), failures.push(clock.now().getTime()), Promise.resolve(failures.length)),
  };
  const verify = (code: string) =>
    verifyCode({ ...base, store, throttles, key, clock, limits: { attemptsPerCode: 5, failuresPerDay: 10 }, code });
  return {
    clock,
    log,
    failures,
    verify,
    current: () => current,
    replace: (mac: string) =>
      current && (current = { ...current, resourceVersion: String(++rv), data: { ...current.data, mac, attempts: 0 } }),
    interleave: (fn: () => void) => (beforeWrite = fn),
    consumed: () => (current = undefined),
  };
}

describe("verifyCode", () => {
  it("accepts the right code once, counting the attempt before the comparison", async () => {
    const t = setup();
    expect(await t.verify("123456")).toEqual({ ok: true });
    expect(t.log).toEqual(["get", "increment", "consume"]);
    expect(t.current()).toBeUndefined();
    expect(await t.verify("123456")).toEqual({ ok: false, code: "invalid_code", attemptsLeft: 0 });
  });

  it("counts wrong codes per code and per day, then refuses the spent code", async () => {
    const t = setup();
    for (let left = 4; left >= 0; left--)
      expect(await t.verify("000000")).toEqual({ ok: false, code: "invalid_code", attemptsLeft: left });
    expect(t.failures).toHaveLength(5);
    expect(await t.verify("123456")).toEqual({ ok: false, code: "too_many_attempts" });
    expect(t.current()?.data.attempts).toBe(5);
  });

  it("reports the smaller of the per-code and per-day allowances", async () => {
    const t = setup({ failures: Array.from({ length: 8 }, () => 0) });
    expect(await t.verify("999999")).toEqual({ ok: false, code: "invalid_code", attemptsLeft: 1 });
  });

  it("refuses everything once the daily cap is reached, with the time it eases", async () => {
    const t = setup({ failures: [1000, 2000, ...Array.from({ length: 9 }, () => 3000)] });
    expect(await t.verify("123456")).toEqual({
      ok: false,
      code: "too_many_attempts",
      retryAt: new Date(2000 + 86_400_000),
    });
    expect(t.log).toEqual(["get"]);
  });

  it("expires at expiresAt exactly, by the injected clock", async () => {
    const t = setup({ expiresInMs: 1000 });
    t.clock.advance(999);
    expect(await t.verify("000000")).toMatchObject({ code: "invalid_code" });
    t.clock.advance(1);
    expect(await t.verify("123456")).toEqual({ ok: false, code: "code_expired" });
  });

  it("treats another stage's challenge as an invalid code, uncharged", async () => {
    const t = setup({ stage: "other" });
    expect(await t.verify("123456")).toEqual({ ok: false, code: "invalid_code", attemptsLeft: 0 });
    expect(t.log).toEqual(["get"]);
  });

  it("accepts only the newest code after a resend", async () => {
    const t = setup();
    t.replace(codeMac(key, { ...base, code: "654321" }));
    expect(await t.verify("123456")).toEqual({ ok: false, code: "invalid_code", attemptsLeft: 4 });
    expect(await t.verify("654321")).toEqual({ ok: true });
  });

  it("re-reads after a conflict and sees a resend's new code", async () => {
    const t = setup();
    let once = true;
    t.interleave(() => {
      if (once) t.replace(codeMac(key, { ...base, code: "111111" }));
      once = false;
    });
    expect(await t.verify("123456")).toEqual({ ok: false, code: "invalid_code", attemptsLeft: 4 });
    expect(t.log.slice(0, 4)).toEqual(["get", "increment", "get", "increment"]);
  });

  it("a challenge consumed between the read and the count is an invalid code, uncharged", async () => {
    const t = setup();
    t.interleave(() => t.consumed());
    expect(await t.verify("123456")).toEqual({ ok: false, code: "invalid_code", attemptsLeft: 0 });
    expect(t.log).toEqual(["get", "increment", "get"]);
  });

  it("gives up after a bounded number of conflicts", async () => {
    const t = setup();
    t.interleave(() => t.replace(codeMac(key, { ...base, code: "111111" })));
    await expect(t.verify("123456")).rejects.toBeInstanceOf(ConflictError);
    expect(t.log.filter((l) => l === "increment")).toHaveLength(conflictRounds(5));
  });

  it("a right code that loses the DELETE is not a failure", async () => {
    const t = setup();
    const store = {
      getChallenge: () => Promise.resolve(t.current()),
      incrementAttempts: (s: Stored<ChallengeData>) =>
        Promise.resolve({ ...s, resourceVersion: "99", data: { ...s.data, attempts: 1 } }),
      consumeChallenge: () => Promise.resolve(false),
    };
    const throttles = {
      retryAt: () => Promise.resolve(undefined),
      recordFailure: () => Promise.reject(new Error("must not be called")),
    };
    const r = await verifyCode({
      ...base,
      store,
      throttles,
      key,
      clock: t.clock,
      limits: { attemptsPerCode: 5, failuresPerDay: 10 },
      code: "123456",
    });
    expect(r).toEqual({ ok: false, code: "invalid_code", attemptsLeft: 0 });
  });

  it("charges malformed input like any wrong code, and refuses nonsensical limits", async () => {
    const t = setup();
    expect(await t.verify("12 34")).toEqual({ ok: false, code: "invalid_code", attemptsLeft: 4 });
    await expect(
      verifyCode({
        ...base,
        store: {} as never,
        throttles: {} as never,
        key,
        clock: t.clock,
        limits: { attemptsPerCode: 0, failuresPerDay: 10 },
        code: "1",
      }),
    ).rejects.toThrow(RangeError);
  });
});
