// Request rate limits through the real HTTP API under parallel load: per client address (told
// apart by X-Forwarded-For from a trusted proxy), per execution and credential, and one global
// budget for unauthenticated work (TokenReviews the cache cannot answer, unknown execution ids).
// Every refusal is a 429 problem with Retry-After; nothing answers 5xx.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ApiFixture, type ApiResponse, createFlow, startApiFixture } from "../harness/api-fixture.ts";

let f: ApiFixture;
const RATES = { address: 10, execution: 5, unauthenticated: 8 };
let nextAddress = 1;
/** A client address of its own, as the trusted proxy (127.0.0.1) reports it. */
const fresh = () => ({ "x-forwarded-for": `198.51.100.${nextAddress++}` });

beforeAll(async () => {
  f = await startApiFixture("ratelimit", {
    args: [
      `--rate-limit-per-address=0.1/${RATES.address}`,
      `--rate-limit-per-execution=0.1/${RATES.execution}`,
      `--rate-limit-unauthenticated=2/${RATES.unauthenticated}`,
      "--trusted-proxies=127.0.0.1/32",
    ],
  });
  await createFlow(f, "email", { useGlobalSettings: true, subject: "Your code", friendlyName: "Email code" }, [
    { name: "enroll", flow: "enroll", intent: "Setup" },
  ]);
}, 120_000);

afterAll(async () => {
  await f?.stop();
});

function tally(responses: ApiResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

function expectRateLimited(r: ApiResponse): void {
  expect(r.body).toMatchObject({ code: "rate_limited", status: 429 });
  expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect(r.headers.get("content-type")).toContain("application/problem+json");
}

const startPath = () => `/api/v1/namespaces/${f.ns}/flows/enroll/executions`;
const unknownId = () => `${f.ns}.${randomBytes(16).toString("hex")}`;

/** The burst plus what 2/s refills while a batch runs: the most the global budget can admit. */
const allowed = (t0: number) => RATES.unauthenticated + Math.ceil((2 * (Date.now() - t0)) / 1000) + 1;
const refill = () => new Promise((r) => setTimeout(r, 4_500)); // 2/s refills the burst of 8

describe("rate limits", () => {
  const executions: { id: string; token: string }[] = [];
  it("lets ordinary use through", async () => {
    for (const id of ["u1", "u2"]) {
      const started = await f.call(
        "POST",
        startPath(),
        { user: { id, email: `${id}@example.com` } },
        f.appToken,
        fresh(),
      );
      expect(started.status).toBe(201);
      executions.push({ id: String(started.body.id), token: String(started.body.token) });
    }
  });

  it("limits one execution per credential; another credential is not affected", async () => {
    const [a] = executions;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => f.call("GET", `/api/v1/executions/${a?.id}`, undefined, a?.token, fresh())),
    );
    const counts = tally(results);
    expect(counts[200]).toBe(RATES.execution);
    expect(counts[429]).toBe(20 - RATES.execution);
    for (const r of results.filter((x) => x.status === 429)) expectRateLimited(r);
    expect((await f.call("GET", `/api/v1/executions/${a?.id}`, undefined, f.appToken, fresh())).status).toBe(200);
  });

  it("caches a refused token briefly, so repeating it costs one TokenReview", async () => {
    const token = `bogus-${randomBytes(8).toString("hex")}`;
    const results = await Promise.all(
      Array.from({ length: 20 }, () => f.call("POST", startPath(), { user: { id: "x" } }, token, fresh())),
    );
    expect(tally(results)).toEqual({ 401: 20 });
  });

  it("holds the global budget for lookups of unknown execution ids, not for ids seen to exist", async () => {
    await refill();
    const t0 = Date.now();
    const results = await Promise.all(
      Array.from({ length: 30 }, () =>
        f.call("GET", `/api/v1/executions/${unknownId()}`, undefined, "eaox_x", fresh()),
      ),
    );
    const counts = tally(results);
    expect(counts[404]).toBeGreaterThanOrEqual(RATES.unauthenticated - 1);
    expect(counts[404]).toBeLessThanOrEqual(allowed(t0));
    expect(counts[429]).toBe(30 - (counts[404] ?? 0));
    for (const r of results.filter((x) => x.status === 429)) expectRateLimited(r);
    // The second execution was started through the API: known, so it needs no global budget.
    const [, b] = executions;
    expect((await f.call("GET", `/api/v1/executions/${b?.id}`, undefined, b?.token, fresh())).status).toBe(200);
  });

  it("holds the global budget for TokenReviews of tokens the cache has not seen", async () => {
    // A token new to the cache, reviewed now (one review), so it stays fresh for the cache's
    // whole lifetime and keeps working while the budget is spent. (The fixture's own token may
    // have been reviewed seconds ago and expire from the cache during the batch.)
    const appToken = await f.newAppToken();
    await refill();
    expect((await f.call("GET", `/api/v1/executions/${executions[1]?.id}`, undefined, appToken, fresh())).status).toBe(
      200,
    );
    const t0 = Date.now();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        f.call("POST", startPath(), { user: { id: "x" } }, `bogus-${i}-${randomBytes(8).toString("hex")}`, fresh()),
      ),
    );
    const counts = tally(results);
    expect(counts[401]).toBeGreaterThanOrEqual(RATES.unauthenticated - 2);
    expect(counts[401]).toBeLessThanOrEqual(allowed(t0) - 1); // one review went to the app token
    expect(counts[429]).toBe(30 - (counts[401] ?? 0));
    for (const r of results.filter((x) => x.status === 429)) expectRateLimited(r);
    expect(await f.metrics?.()).toMatch(/emailauth_http_rate_limited_total\{scope="unauthenticated"\} [4-9]\d/);
    expect((await f.call("POST", startPath(), { user: { id: "u3" } }, appToken, fresh())).status).toBe(201);
  });

  it("limits one client address, and only that one", async () => {
    const headers = fresh();
    const results = await Promise.all(
      Array.from({ length: 30 }, () => f.call("GET", "/openapi.json", undefined, undefined, headers)),
    );
    const counts = tally(results);
    expect(counts[200]).toBe(RATES.address);
    expect(counts[429]).toBe(30 - RATES.address);
    for (const r of results.filter((x) => x.status === 429)) expectRateLimited(r);
    expect((await f.call("GET", "/openapi.json", undefined, undefined, fresh())).status).toBe(200);
    expect(await f.metrics?.()).toMatch(/emailauth_http_rate_limited_total\{scope="address"\} 20/);
  });

  it("never answered 5xx and logged no error", () => {
    expect(f.logs()).not.toMatch(/"level":50/);
  });
});
