// Code key rotation while executions are live, with two operator replicas (one in this process,
// one a child process) serving the same API server: codes mailed before the rotation verify on
// either replica, codes mailed after it are MACed with the new key on both, and the failure
// counters carry on across the rotation.
import { CoreV1Api, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ApiFixture,
  type ApiResponse,
  codeIn,
  createFlow,
  startApiFixture,
  startSecondReplica,
} from "../harness/api-fixture.ts";
import { controlPlane } from "../harness/context.ts";
import { OPERATOR_NAMESPACE } from "../harness/controlplane.ts";
import type { OperatorProcess } from "../harness/operator-process.ts";
import { waitFor } from "../harness/wait.ts";

const KEYRING = "email-authenticator-code-keys";
let f: ApiFixture;
let b: OperatorProcess;
const core = () => controlPlane().admin().makeApiClient(CoreV1Api);
const text = (v: string | undefined) => Buffer.from(v ?? "", "base64").toString("utf8");

/** The second replica's API, same shape as the fixture's `call`. */
async function callB(method: "GET" | "POST", path: string, body?: unknown, token?: string): Promise<ApiResponse> {
  const res = await fetch(`http://127.0.0.1:${b.httpPort}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const t = await res.text();
  return { status: res.status, body: t ? (JSON.parse(t) as Record<string, unknown>) : {}, headers: res.headers };
}

type Call = (method: "GET" | "POST", path: string, body?: unknown, token?: string) => Promise<ApiResponse>;
const onA: Call = (m, p, body, token) => f.call(m, p, body, token);
const onB: Call = callB;

interface Started {
  id: string;
  token: string;
  code: string;
}

async function start(on: Call, user: string): Promise<Started> {
  const r = await on(
    "POST",
    `/api/v1/namespaces/${f.ns}/flows/enroll/executions`,
    {
      user: { id: user, email: `${user}@example.com` },
    },
    f.appToken,
  );
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  const code = codeIn(await f.mailpit.waitForMessageTo(`${user}@example.com`));
  return { id: String(r.body.id), token: String(r.body.token), code };
}

const submit = (on: Call, e: Started, code: string) => on("POST", `/api/v1/executions/${e.id}`, { code }, e.token);

/** The key id in the stored MAC of an execution's pending code. */
async function macKid(e: Started): Promise<string> {
  const hex = e.id.split(".")[1] ?? "";
  const secret = await core().readNamespacedSecret({ namespace: OPERATOR_NAMESPACE, name: `eao-x-${hex}` });
  const record = JSON.parse(text(secret.data?.record)) as { challenge?: { mac?: string } };
  return record.challenge?.mac?.split(".")[0] ?? "";
}

async function keyring(): Promise<{ current: string; previous: string }> {
  const s = await core().readNamespacedSecret({ namespace: OPERATOR_NAMESPACE, name: KEYRING });
  return { current: text(s.data?.current), previous: text(s.data?.previous) };
}

beforeAll(async () => {
  f = await startApiFixture("rotation");
  await createFlow(
    f,
    "email",
    { useGlobalSettings: true, subject: "Your code", limits: { attemptsPerCode: 5, failuresPerDay: 4 } },
    [{ name: "enroll", flow: "enroll", intent: "Setup" }],
  );
  b = await startSecondReplica(f);
}, 120_000);

afterAll(async () => {
  await b?.stop();
  await f?.stop();
});

describe("code key rotation with two replicas", () => {
  it("verifies old codes on both replicas until they expire, MACs new codes with the new key, keeps counters", async () => {
    const before = await keyring();
    expect(before.current).toMatch(/^\d{8}-[0-9a-f]{8}$/);

    // Live executions with codes under the current key, mailed by either replica.
    const fromA = await start(onA, "alice");
    const fromB = await start(onB, "bob");
    expect([await macKid(fromA), await macKid(fromB)]).toEqual([before.current, before.current]);
    // One wrong code for carol before the rotation: 4 failures a day, so 3 left.
    const carol1 = await start(onA, "carol");
    const wrong = carol1.code === "000000" ? "000001" : "000000";
    expect((await submit(onA, carol1, wrong)).body).toMatchObject({ code: "invalid_code", attemptsLeft: 3 });

    // Rotate the way the docs say: annotate the Secret; the first replica to see it rotates.
    await core().patchNamespacedSecret(
      {
        namespace: OPERATOR_NAMESPACE,
        name: KEYRING,
        body: { metadata: { annotations: { "emailauth.dev/rotate": f.ns } } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const after = await waitFor(
      async () => {
        const r = await keyring();
        return r.current !== before.current ? r : undefined;
      },
      { what: "the rotated keyring", timeoutMs: 15_000, intervalMs: 100 },
    );
    expect(after.previous).toBe(before.current);

    // New codes on both replicas use the new key (the watch told the second replica at once).
    const afterA = await start(onA, "dave");
    const afterB = await start(onB, "erin");
    expect([await macKid(afterA), await macKid(afterB)]).toEqual([after.current, after.current]);

    // Old codes verify on the other replica, and so do new ones.
    for (const [on, e] of [
      [onB, fromA],
      [onA, fromB],
      [onB, afterA],
      [onA, afterB],
    ] as const) {
      const done = await submit(on, e, e.code);
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(done.body.state).toBe("completed");
    }

    // carol's failure counter carried on: her next wrong code, in a new execution, leaves 2.
    const carol2 = await start(onB, "carol");
    const wrong2 = carol2.code === "000000" ? "000001" : "000000";
    expect((await submit(onB, carol2, wrong2)).body).toMatchObject({ code: "invalid_code", attemptsLeft: 2 });

    // A second rotation is refused while the previous key may still verify codes; both keep working.
    await core().patchNamespacedSecret(
      {
        namespace: OPERATOR_NAMESPACE,
        name: KEYRING,
        body: { metadata: { annotations: { "emailauth.dev/rotate": `${f.ns}-2` } } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await waitFor(() => (f.logs().includes("rotation not done") ? true : undefined), {
      what: "the refused second rotation in the log",
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    expect(await keyring()).toEqual(after);
    expect(f.logs() + b.logs()).not.toMatch(/"key\.[^"]*":|"level":50/);
  });
});
