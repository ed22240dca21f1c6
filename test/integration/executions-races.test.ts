// Every budget holds under concurrency across two replicas (issue: reserve, then act): the
// in-process operator and a second operator process serve the same namespace, and requests are
// spread over both. Real API server, real Mailpit; mails are counted where they arrive.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, codeIn, createFlow, startApiFixture, startSecondReplica } from "../harness/api-fixture.ts";
import type { OperatorProcess } from "../harness/operator-process.ts";
import { waitFor } from "../harness/wait.ts";

let f: ApiFixture;
let replica: OperatorProcess;
let urls: string[] = [];

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

async function call(i: number, method: "GET" | "POST", path: string, body?: unknown, token?: string) {
  const res = await fetch(`${urls[i % urls.length]}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const start = async (flow: string, user: Record<string, unknown>) => {
  const r = await call(0, "POST", `/api/v1/namespaces/${f.ns}/flows/${flow}/executions`, { user }, f.appToken);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { id: String(r.body.id), token: String(r.body.token), body: r.body };
};
const submit = (i: number, x: { id: string; token: string }, body: unknown) =>
  call(i, "POST", `/api/v1/executions/${x.id}`, body, x.token);

async function mailsTo(address: string) {
  return (await f.mailpit.messages()).filter((m) => m.To.some((t) => t.Address === address));
}

/** No answer is a 5xx, and each is one of `allowed`. */
function expectClean(answers: Answer[], allowed: number[]) {
  for (const a of answers) {
    expect(a.status, JSON.stringify(a.body)).toBeLessThan(500);
    expect(allowed, JSON.stringify(a.body)).toContain(a.status);
  }
}

const limits = (l: Record<string, number>) => ({ useGlobalSettings: true, limits: l });

beforeAll(async () => {
  f = await startApiFixture("races");
  await createFlow(f, "resends", limits({ resendCooldownSeconds: 30, sendsPerAddressPerHour: 100 }), [
    { name: "resends", flow: "resends", intent: "Setup" },
  ]);
  await createFlow(f, "emails", limits({ resendCooldownSeconds: 60, sendsPerAddressPerHour: 100 }), [
    { name: "emails", flow: "emails", intent: "Setup" },
  ]);
  await createFlow(f, "capped", limits({ resendCooldownSeconds: 60, sendsPerAddressPerHour: 5 }), [
    { name: "capped", flow: "capped", intent: "Setup" },
  ]);
  await createFlow(
    f,
    "guesses",
    limits({ attemptsPerCode: 5, failuresPerDay: 10, resendCooldownSeconds: 60, sendsPerAddressPerHour: 100 }),
    [{ name: "guesses", flow: "guesses", intent: "Setup" }],
  );
  replica = await startSecondReplica(f);
  urls = [f.url ?? "", `http://127.0.0.1:${replica.httpPort}`];
  // The second replica's caches know the flows once it answers a GET for an unknown execution.
  await waitFor(async () => ((await call(1, "GET", "/openapi.json")).status === 200 ? true : undefined), {
    what: "the second replica",
  });
}, 180_000);

afterAll(async () => {
  await replica?.stop();
  await f?.stop();
});

describe("budgets reserved before acting, two replicas", () => {
  it("50 parallel resends after the cooldown: at most one new mail, no 5xx, the newest code verifies", async () => {
    const x = await start("resends", { id: "resender", email: "resends@example.com" });
    await f.mailpit.waitForMessageTo("resends@example.com");
    // Real time on both replicas (the second one's clock cannot be moved); the burst must end
    // well within the next cooldown, so a second legitimate resend cannot happen in it.
    await new Promise((r) => setTimeout(r, 30_500));
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => submit(i, x, { resend: true })));
    // Losers meet the cooldown or the rate limit; one that lost every round is told to retry (409, Retry-After).
    expectClean(answers, [200, 409, 429]);
    expect(answers.filter((a) => a.status === 200).length).toBeLessThanOrEqual(1);
    // A 429 is the cooldown, or the per-execution request rate limit (burst 15 per replica) that
    // turns most of a burst away before it reaches the record.
    for (const a of answers.filter((a) => a.status === 429))
      expect(["resend_cooldown", "rate_limited"]).toContain(a.body.code);
    for (const a of answers.filter((a) => a.status === 409)) expect(a.body.code).toBe("conflict");
    await new Promise((r) => setTimeout(r, 1_000)); // any stray mail would have arrived
    const mails = await mailsTo("resends@example.com");
    expect(mails.length).toBeLessThanOrEqual(2);
    const newest = mails.toSorted((a, b) => Date.parse(b.Created) - Date.parse(a.Created))[0];
    const code = codeIn(await f.mailpit.message(newest?.ID ?? ""));
    const done = await submit(1, x, { code });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.state).toBe("completed");
  });

  it("30 parallel addresses on one execution: at most one mail", async () => {
    const x = await start("emails", { id: "emailer" });
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => submit(i, x, { email: "thirty@example.com" })),
    );
    expectClean(answers, [200, 429]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await mailsTo("thirty@example.com")).length).toBeLessThanOrEqual(1);
  });

  it("the hourly per-address cap holds under 100 parallel sends spread over 10 executions", async () => {
    const xs = await Promise.all(Array.from({ length: 10 }, (_, i) => start("capped", { id: `capped-${i}` })));
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        submit(i, xs[i % 10] as { id: string; token: string }, { email: "cap@example.com" }),
      ),
    );
    expectClean(answers, [200, 429]);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await mailsTo("cap@example.com")).length).toBeLessThanOrEqual(5);
  });

  it("12 executions x 5 wrong codes for one user at once: at most failuresPerDay are judged", async () => {
    const xs: { id: string; token: string; code: string }[] = [];
    for (let i = 0; i < 12; i++) {
      const x = await start("guesses", { id: "guessed", email: `guessed-${i}@example.com` });
      xs.push({ ...x, code: codeIn(await f.mailpit.waitForMessageTo(`guessed-${i}@example.com`)) });
    }
    const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    const answers = await Promise.all(
      xs.flatMap((x, i) => Array.from({ length: 5 }, (_, j) => submit(i * 5 + j, x, { code: wrong(x.code) }))),
    );
    expectClean(answers, [400, 429]);
    const judged = answers.filter((a) => a.body.code === "invalid_code");
    expect(judged.length).toBeLessThanOrEqual(10);
    expect(judged.length).toBeGreaterThan(0);
    for (const a of answers.filter((a) => a.body.code !== "invalid_code"))
      expect(a.body.code).toBe("too_many_attempts");
    // Even the right code is refused now, on either replica.
    const right = await submit(1, xs[0] as { id: string; token: string }, { code: xs[0]?.code });
    expect(right.body.code).toBe("too_many_attempts");
  });
});
