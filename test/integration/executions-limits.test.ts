// The limits of code verification and sending, end to end through the HTTP API: wrong-code
// attempts per code, expiry, single use (also under 50 concurrent requests), resend cooldown,
// the 24 h failure cap per user across resends and executions, the per-address send cap, and
// that neither codes nor execution tokens reach the logs. Each scenario has its own stage, user
// and address, so counters never leak between tests while the shared clock moves forward.
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ApiFixture,
  type ApiResponse,
  codeIn,
  createFlow,
  devicesApi,
  startApiFixture,
} from "../harness/api-fixture.ts";
import { OPERATOR_NAMESPACE } from "../harness/controlplane.ts";
import { waitFor } from "../harness/wait.ts";

const LIMITS = { attemptsPerCode: 3, failuresPerDay: 5, resendCooldownSeconds: 60, sendsPerAddressPerHour: 5 };
const COOLDOWN_PASSED_MS = 61_000;
const HOUR_S = 3600;

let f: ApiFixture;
// Every code mailed and every token issued in this file, for the log check at the end.
const codes: string[] = [];
const tokens: string[] = [];
const seenMail = new Set<string>();

interface Execution {
  id: string;
  token: string;
}

/** The code in the next not yet seen mail to `address` (a resend's mail, not the first one). */
async function nextCode(address: string): Promise<string> {
  const summary = await waitFor(
    async () =>
      (await f.mailpit.messages()).find((m) => !seenMail.has(m.ID) && m.To.some((t) => t.Address === address)),
    {
      what: `a new mail to ${address}`,
      timeoutMs: 15_000,
    },
  );
  seenMail.add(summary.ID);
  const code = codeIn(await f.mailpit.message(summary.ID));
  codes.push(code);
  return code;
}

const startFor = (flow: string, user: string, email: string) =>
  f.call("POST", `/api/v1/namespaces/${f.ns}/flows/${flow}/executions`, { user: { id: user, email } }, f.appToken);

/** Starts a flow for a user with a known address; returns the execution and the mailed code. */
async function begin(flow: string, user: string, email: string): Promise<Execution & { code: string }> {
  const r = await startFor(flow, user, email);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  expect(r.body.state).toBe("code_sent");
  const x = { id: String(r.body.id), token: String(r.body.token) };
  tokens.push(x.token);
  return { ...x, code: await nextCode(email) };
}

const post = (x: Execution, body: unknown) => f.call("POST", `/api/v1/executions/${x.id}`, body, x.token);
const verify = (x: Execution, code: string) => post(x, { code });
const resend = (x: Execution) => post(x, { resend: true });

/** Same length, certainly not the right code. */
const wrongCode = (code: string) => String((Number(code) + 1) % 10 ** code.length).padStart(code.length, "0");

function expectProblem(r: ApiResponse, status: number, code: string): Record<string, unknown> {
  expect(r.body, JSON.stringify(r.body)).toMatchObject({ status, code });
  expect(r.status).toBe(status);
  expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  return r.body;
}

const secondsUntil = (iso: unknown) => (Date.parse(String(iso)) - f.clock.now().getTime()) / 1000;
const retryAfter = (r: ApiResponse) => Number(r.headers.get("retry-after"));

beforeAll(async () => {
  f = await startApiFixture("limits");
  const stage = (extra: Record<string, unknown> = {}) => ({ useGlobalSettings: true, limits: LIMITS, ...extra });
  await Promise.all([
    ...["attempts", "used", "cooldown", "daily", "sends", "race"].map((name) =>
      createFlow(f, name, stage(), [{ name, flow: name, intent: "Setup" }]),
    ),
    createFlow(f, "expiry", stage({ tokenExpiry: 1 }), [{ name: "expiry", flow: "expiry", intent: "Setup" }]),
    createFlow(f, "twostep-a", stage(), [{ name: "twostep-1", flow: "twostep", order: 1, intent: "Setup" }]),
    createFlow(f, "twostep-b", stage(), [{ name: "twostep-2", flow: "twostep", order: 2, intent: "Setup" }]),
  ]);
}, 120_000);

afterAll(async () => {
  await f?.stop();
});

describe("verifying codes", () => {
  it("counts wrong codes down per code, then refuses even the right one until a resend", async () => {
    const x = await begin("attempts", "u-attempts", "attempts@example.com");
    // 3 attempts per code: each wrong one reports what is left after it.
    for (const left of [2, 1, 0])
      expect(expectProblem(await verify(x, wrongCode(x.code)), 400, "invalid_code").attemptsLeft).toBe(left);
    const spent = expectProblem(await verify(x, wrongCode(x.code)), 429, "too_many_attempts");
    // The per-code limit, not the daily cap (3 of 5 failures): no time to wait for, a resend helps.
    expect(spent.retryAt).toBeUndefined();
    expectProblem(await verify(x, x.code), 429, "too_many_attempts");

    f.clock.advance(COOLDOWN_PASSED_MS);
    expect((await resend(x)).body).toMatchObject({ state: "code_sent" });
    const fresh = await nextCode("attempts@example.com");
    expect((await verify(x, fresh)).body).toMatchObject({
      state: "completed",
      result: { user: "u-attempts", stage: "attempts" },
    });
  });

  it("refuses an expired code, right or not, and a resend brings one that works", async () => {
    const x = await begin("expiry", "u-expiry", "expiry@example.com");
    f.clock.advance(61_000); // tokenExpiry is 1 minute
    expectProblem(await verify(x, x.code), 410, "code_expired");
    expectProblem(await verify(x, wrongCode(x.code)), 410, "code_expired");
    expectProblem(await verify(x, x.code), 410, "code_expired");
    expect((await resend(x)).body).toMatchObject({ state: "code_sent" });
    expect((await verify(x, await nextCode("expiry@example.com"))).body).toMatchObject({ state: "completed" });
  });

  it("uses a code once: after completion it is a conflict, and its challenge Secret is gone", async () => {
    const x = await begin("used", "u-used", "used@example.com");
    expect((await verify(x, x.code)).body).toMatchObject({
      state: "completed",
      result: { user: "u-used", stage: "used" },
    });
    expectProblem(await verify(x, x.code), 409, "conflict");

    const core = f.admin.makeApiClient(CoreV1Api);
    const challenges = await core.listNamespacedSecret({
      namespace: OPERATOR_NAMESPACE,
      labelSelector: `emailauth.dev/component=challenge,emailauth.dev/stage-namespace=${f.ns}`,
    });
    const executionId = x.id.split(".")[1] ?? "";
    expect(executionId).toMatch(/^[0-9a-f]{32}$/);
    expect(challenges.items.map((s) => s.metadata?.name)).not.toContain(`eao-c-${executionId}`);
  });

  it("does not accept a used code at the flow's next stage", async () => {
    const x = await begin("twostep", "u-twostep", "twostep@example.com");
    expect((await verify(x, x.code)).body).toMatchObject({ state: "code_sent", challenge: { stage: "twostep-b" } });
    const second = await nextCode("twostep@example.com");
    // The first stage's code, replayed at the second stage, is just a wrong code there.
    expect(expectProblem(await verify(x, x.code), 400, "invalid_code").attemptsLeft).toBe(2);
    expect((await verify(x, second)).body).toMatchObject({
      state: "completed",
      result: { user: "u-twostep", stage: "twostep-b" },
    });
    expectProblem(await verify(x, second), 409, "conflict");
  });

  it("lets exactly one of 50 concurrent right codes win, and saves one device", async () => {
    const x = await begin("race", "u-race", "race@example.com");
    const answers = await Promise.all(Array.from({ length: 50 }, () => verify(x, x.code)));
    const won = answers.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    expect(won[0]?.body).toMatchObject({ state: "completed", result: { user: "u-race", stage: "race" } });
    for (const r of answers.filter((a) => a.status !== 200)) {
      expect(r.status, JSON.stringify(r.body)).toBeGreaterThanOrEqual(400);
      expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
      expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(r.body.code).toEqual(expect.any(String));
    }
    const devices = (await devicesApi(f.admin, f.ns)()).filter((d) => (d.spec.user as { id: string }).id === "u-race");
    expect(devices).toHaveLength(1);
    expect(devices[0]?.spec).toMatchObject({ email: "race@example.com", confirmed: true, stageRef: { name: "race" } });
  });
});

describe("sending codes", () => {
  it("refuses a resend inside the cooldown with Retry-After, then only the newest code verifies", async () => {
    const x = await begin("cooldown", "u-cooldown", "cooldown@example.com");
    f.clock.advance(20_000);
    const early = await resend(x);
    const body = expectProblem(early, 429, "resend_cooldown");
    // 40 s of the 60 s cooldown remain (less the real time the requests took).
    expect(retryAfter(early)).toBeGreaterThanOrEqual(38);
    expect(retryAfter(early)).toBeLessThanOrEqual(40);
    expect(body.retryAfter).toBe(retryAfter(early));
    expect(secondsUntil(body.retryAt)).toBeGreaterThan(37);
    expect(secondsUntil(body.retryAt)).toBeLessThanOrEqual(40);

    f.clock.advance(41_000);
    expect((await resend(x)).body).toMatchObject({ state: "code_sent" });
    const newest = await nextCode("cooldown@example.com");
    expect(newest).not.toBe(x.code); // one in a million; then the next line would prove nothing
    expectProblem(await verify(x, x.code), 400, "invalid_code");
    expect((await verify(x, newest)).body).toMatchObject({ state: "completed" });
  });

  it("caps the mails per address and hour, whoever asks and however the address is cased", async () => {
    const address = "sends@example.com";
    const x = await begin("sends", "u-sends", address);
    for (let sent = 1; sent < LIMITS.sendsPerAddressPerHour; sent++) {
      f.clock.advance(COOLDOWN_PASSED_MS);
      expect((await resend(x)).body).toMatchObject({ state: "code_sent" });
      await nextCode(address);
    }
    f.clock.advance(COOLDOWN_PASSED_MS);
    const capped = await resend(x);
    const body = expectProblem(capped, 429, "send_limit");
    // The first send leaves the hour 5 cooldowns (305 s) after it was made.
    const expected = HOUR_S - 5 * (COOLDOWN_PASSED_MS / 1000);
    expect(retryAfter(capped)).toBeGreaterThanOrEqual(expected - 5);
    expect(retryAfter(capped)).toBeLessThanOrEqual(expected);
    expect(Math.abs(secondsUntil(body.retryAt) - expected)).toBeLessThan(5);

    // Another user's execution cannot mail the same address either (the cap is per address),
    // and the refused start leaves no execution behind.
    const core = f.admin.makeApiClient(CoreV1Api);
    const executions = async () =>
      (
        await core.listNamespacedSecret({
          namespace: OPERATOR_NAMESPACE,
          labelSelector: `emailauth.dev/component=execution,emailauth.dev/stage-namespace=${f.ns}`,
        })
      ).items.length;
    const before = await executions();
    expectProblem(await startFor("sends", "u-sends-2", "Sends@example.com"), 429, "send_limit");
    expect(await executions()).toBe(before);
    const mails = (await f.mailpit.messages()).filter((m) => m.To.some((t) => t.Address.toLowerCase() === address));
    expect(mails).toHaveLength(LIMITS.sendsPerAddressPerHour);
  });

  it("keeps the 24 h failure cap across resends and new executions, for that user only", async () => {
    const address = "daily@example.com";
    const x1 = await begin("daily", "u-daily", address);
    for (const left of [2, 1, 0])
      expect(expectProblem(await verify(x1, wrongCode(x1.code)), 400, "invalid_code").attemptsLeft).toBe(left);

    // A resend resets the attempts of the code, not the day's failures (4 of 5 after this).
    f.clock.advance(COOLDOWN_PASSED_MS);
    expect((await resend(x1)).body).toMatchObject({ state: "code_sent" });
    const code1 = await nextCode(address);
    expect(expectProblem(await verify(x1, wrongCode(code1)), 400, "invalid_code").attemptsLeft).toBe(1);

    // Neither does a new execution of the same user: its first wrong code is the fifth failure.
    const x2 = await begin("daily", "u-daily", address);
    expect(expectProblem(await verify(x2, wrongCode(x2.code)), 400, "invalid_code").attemptsLeft).toBe(0);

    for (const [x, code] of [
      [x2, x2.code],
      [x1, code1],
    ] as const) {
      const refused = await verify(x, code);
      const body = expectProblem(refused, 429, "too_many_attempts");
      // The oldest failure leaves the 24 h window a minute or so (the cooldown) from now.
      const wait = secondsUntil(body.retryAt);
      expect(wait).toBeGreaterThan(24 * HOUR_S - 120);
      expect(wait).toBeLessThanOrEqual(24 * HOUR_S);
      expect(Math.abs(retryAfter(refused) - wait)).toBeLessThanOrEqual(2);
    }

    const other = await begin("daily", "u-daily-other", "daily-other@example.com");
    expect((await verify(other, other.code)).body).toMatchObject({
      state: "completed",
      result: { user: "u-daily-other" },
    });
  });
});

describe("logs", () => {
  it("hold no code and no execution token, but do record the executions", () => {
    const logs = f.logs();
    expect(logs).toContain("execution started");
    expect(logs).toContain("code verified");
    expect(codes.length).toBeGreaterThan(15);
    expect(tokens.length).toBeGreaterThan(8);
    expect(logs).not.toContain("eaox_");
    for (const token of tokens) expect(logs).not.toContain(token);
    // A code must not appear as a word in any field; digit runs inside hex ids (reconcile ids,
    // namespace suffixes) are not codes and would make the check flaky.
    const asWord = (s: string) => new RegExp(`(?<![0-9A-Za-z])${s}(?![0-9A-Za-z])`);
    for (const code of codes) expect(logs).not.toMatch(asWord(code));
  });
});
