// Hostile input, generated: fast-check properties over HTTP bodies, headers, paths and ids sent to
// the real API, and over stage specs applied to the real API server. Nothing answers 5xx, the
// operator keeps working, and a refused request leaves no Secret or device behind. Bounded in runs
// and time; the seed is printed (FUZZ_SEED=<n> replays a run).
import fc from "fast-check";
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import { type ApiFixture, createFlow, devicesApi, startApiFixture } from "../harness/api-fixture.ts";
import { OPERATOR_NAMESPACE } from "../harness/controlplane.ts";
import { readyIs } from "../harness/objects.ts";

const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
let f: ApiFixture;
let created = 0;
const answered: Record<number, number> = {};
let fetchRefused = 0;

beforeAll(async () => {
  console.log(`fuzz seed ${seed} (replay with FUZZ_SEED=${seed})`);
  f = await startApiFixture("fuzz", {
    // The limits are not under test here; the fuzzer must reach the handlers.
    args: [
      "--rate-limit-per-address=1000/10000",
      "--rate-limit-per-execution=1000/10000",
      "--rate-limit-unauthenticated=1000/10000",
    ],
  });
  await createFlow(f, "email", { useGlobalSettings: true, subject: "Your code" }, [
    { name: "enroll", flow: "enroll", intent: "Setup" },
  ]);
}, 120_000);

afterAll(async () => {
  await f?.stop();
});

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom("", " ", "\u0000", "a@b.c", "x".repeat(300), "../..", "%00", "\r\nX-Injected: 1", "😀@例え.jp"),
);
const jsonValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), text, fc.constant(null));
const startBody = fc.oneof(
  fc.record({ user: fc.record({ id: text, email: fc.option(text), name: fc.option(text) }, { requiredKeys: [] }) }),
  fc.record({ user: fc.record({ id: fc.constantFrom("alice", "bob"), email: fc.constant("user@example.com") }) }),
  fc.dictionary(text, jsonValue, { maxKeys: 4 }),
  jsonValue,
);
const submitBody = fc.oneof(
  fc.record({ code: fc.oneof(text, fc.stringMatching(/^\d{1,20}$/), fc.integer()) }),
  fc.record({ email: text }),
  fc.record({ resend: fc.oneof(fc.boolean(), text) }),
  fc.dictionary(text, jsonValue, { maxKeys: 4 }),
  jsonValue,
);
const id = fc.oneof(
  text,
  fc.stringMatching(/^[0-9a-f]{32}$/).map((h) => `${f.ns}.${h}`),
  fc.stringMatching(/^[0-9a-f]{0,40}$/).map((h) => `default.${h}`),
);
const authorization = fc.oneof(
  fc.constant(undefined),
  { arbitrary: fc.constant("app"), weight: 4 },
  text.map((t) => `Bearer ${t}`),
  fc.base64String({ maxLength: 60 }).map((t) => `Bearer eaox_${t}`),
  text,
);
// Mostly well-formed framing, so the fuzzed content reaches the handlers behind it.
const contentType = fc.oneof(
  { arbitrary: fc.constant("application/json"), weight: 6 },
  fc.constantFrom(
    undefined,
    "application/json; charset=utf-16",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/json; charset=latin1",
  ),
);
const request = fc.oneof(
  fc.record({
    method: fc.constantFrom("POST" as const),
    path: fc.oneof(
      fc.constant(`/api/v1/namespaces/NS/flows/enroll/executions`),
      fc
        .tuple(text, text)
        .map(([n, fl]) => `/api/v1/namespaces/${encodeURIComponent(n)}/flows/${encodeURIComponent(fl)}/executions`),
    ),
    body: startBody,
  }),
  fc.record({
    method: fc.constantFrom("GET" as const, "POST" as const),
    path: id.map((i) => `/api/v1/executions/${encodeURIComponent(i)}`),
    body: submitBody,
  }),
  fc.record({
    method: fc.constantFrom("GET" as const, "POST" as const),
    path: text.map((t) => `/${encodeURI(t)}`),
    body: jsonValue,
  }),
);

describe("fuzzed HTTP requests", () => {
  it("never answer 5xx, always answer a problem document or a view, and leave nothing behind when refused", async () => {
    await fc.assert(
      fc.asyncProperty(request, authorization, contentType, fc.boolean(), async (r, auth, type, rawBody) => {
        const headers: Record<string, string> = {};
        if (type) headers["content-type"] = type;
        if (auth) headers.authorization = auth === "app" ? `Bearer ${f.appToken}` : auth;
        const body =
          r.method === "GET" ? undefined : rawBody ? String(JSON.stringify(r.body)).slice(1) : JSON.stringify(r.body);
        const res = await fetch(`${f.url}${r.path.replace("NS", f.ns)}`, {
          method: r.method,
          headers,
          ...(body !== undefined ? { body } : {}),
        }).catch((e: unknown) => e as Error);
        if (res instanceof Error) {
          // fetch itself refuses some header values (e.g. control characters): nothing was sent.
          expect(res.name).toBe("TypeError");
          fetchRefused++;
          if (fetchRefused === 1) console.log(`fetch refused a request: ${res.message}`);
          return;
        }
        const answer = await res.text();
        expect(res.status, `${r.method} ${r.path}: ${answer.slice(0, 300)}`).toBeLessThan(500);
        if (res.status === 201) created++;
        answered[res.status] = (answered[res.status] ?? 0) + 1;
        if (res.status >= 400) {
          const problem = JSON.parse(answer) as { code?: string; status?: number };
          expect(problem.status).toBe(res.status);
          expect(typeof problem.code).toBe("string");
        }
      }),
      { seed, numRuns: 200, interruptAfterTimeLimit: 60_000, markInterruptAsFailure: false },
    );
    console.log(`HTTP answers: ${JSON.stringify(answered)}, refused by fetch before sending: ${fetchRefused}`);
    // Most requests must reach the server, or the property tests nothing.
    expect(Object.values(answered).reduce((a, b) => a + b, 0)).toBeGreaterThan(100);
    // Only executions that were answered 201 exist; no refused request made one, and no device
    // was made (no code was ever right).
    const secrets = await f.admin.makeApiClient(CoreV1Api).listNamespacedSecret({
      namespace: OPERATOR_NAMESPACE,
      labelSelector: `${GROUP}/component=execution,${GROUP}/stage-namespace=${f.ns}`,
    });
    expect(secrets.items.length).toBe(created);
    expect(await devicesApi(f.admin, f.ns)()).toEqual([]);
    expect(f.logs()).not.toMatch(/"level":(50|60)/);
  }, 120_000);
});

const stageSpec = fc.record(
  {
    useGlobalSettings: fc.oneof(fc.boolean(), jsonValue),
    subject: fc.oneof(text, jsonValue),
    friendlyName: fc.oneof(text, jsonValue),
    tokenExpiry: fc.oneof(fc.integer({ min: -5, max: 5000 }), jsonValue),
    codeLength: fc.oneof(fc.integer({ min: 0, max: 20 }), jsonValue),
    connection: fc.oneof(
      fc.record(
        {
          host: text,
          port: fc.oneof(fc.integer({ min: -1, max: 70_000 }), text),
          useTLS: fc.boolean(),
          useSSL: fc.boolean(),
          timeout: fc.integer({ min: -1, max: 1000 }),
          fromAddress: text,
        },
        { requiredKeys: [] },
      ),
      jsonValue,
    ),
    limits: fc.oneof(fc.dictionary(text, jsonValue, { maxKeys: 3 }), jsonValue),
  },
  { requiredKeys: [] },
);

describe("fuzzed stage specs on the real API server", () => {
  it("are stored or refused by the schema (never 5xx), and the operator keeps reconciling", async () => {
    const custom = f.admin.makeApiClient(CustomObjectsApi);
    let n = 0;
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(stageSpec, async (spec) => {
        const name = `fuzz-${n++}`;
        let status = 201;
        try {
          await custom.createNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace: f.ns,
            plural: "emailauthenticatorstages",
            body: { apiVersion: `${GROUP}/${VERSION}`, kind: "EmailAuthenticatorStage", metadata: { name }, spec },
          });
        } catch (e) {
          status = (e as { code?: number }).code ?? -1;
        }
        statuses[status] = (statuses[status] ?? 0) + 1;
        expect([201, 400, 422]).toContain(status);
      }),
      { seed, numRuns: 100, interruptAfterTimeLimit: 45_000, markInterruptAsFailure: false },
    );
    console.log(`stage specs: ${JSON.stringify(statuses)}`);
    // Still reconciling after whatever was stored: a new valid stage becomes Ready.
    await f.k.create("emailauthenticatorstages", "after-fuzz", { useGlobalSettings: true });
    await f.k.waitFor("emailauthenticatorstages", "after-fuzz", readyIs("True"), "stage after the fuzz ready");
    expect(f.logs()).not.toMatch(/"level":60/);
  }, 120_000);
});
