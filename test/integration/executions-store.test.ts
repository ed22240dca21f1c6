// Execution state against the real API server under the operator's least-privilege identity:
// the code key race between replicas, execution and challenge Secrets with preconditioned
// writes, single use of a code under 50 concurrent requests, attempt and daily caps, expiry,
// send counting, no PII in names or labels, and the sweeper clearing all three kinds.
import { CoreV1Api, type V1Secret } from "@kubernetes/client-node";
import { createLogger } from "../../src/log/logger.ts";
import { beforeAll, describe, expect, it } from "vitest";
import { CODE_KEY_SECRET_TYPE, COMPONENT_LABEL } from "../../src/kinds/labels.ts";
import { Sweeper } from "../../src/controllers/sweeper/sweeper.ts";
import { codeMac, generateCode, newExecutionToken, tokenHash } from "../../src/executions/codes.ts";
import { type ExecutionId, newExecutionId } from "../../src/executions/ids.ts";
import { CodeKey, loadOrCreateKey } from "../../src/executions/hmac-key.ts";
import { MalformedRecordError } from "../../src/executions/record-secret.ts";
import { ConflictError, ExecutionRecords } from "../../src/executions/execution-records.ts";
import { Throttles } from "../../src/executions/throttle.ts";
import type { ExecutionData } from "../../src/executions/types.ts";
import { verifyCode, type VerifyResult } from "../../src/executions/verify.ts";
import { isConflict } from "@emailauth/operator-runtime";
import { FakeClock } from "@emailauth/operator-runtime";
import { controlPlane, createTestNamespace, grantOperatorNamespace } from "../harness/context.ts";
import { objects } from "../harness/objects.ts";

const plane = controlPlane();
const admin = plane.admin();
const adminCore = admin.makeApiClient(CoreV1Api);
/** Everything under test runs as the operator, with exactly the shipped RBAC. */
const core = plane.operator().makeApiClient(CoreV1Api);

const STAGE = "relay";
const ADDRESS = "Alice.Wonder@Example.COM";
const ADDRESS_KEY = "alice.wonder@example.com";
const limits = { attemptsPerCode: 5, failuresPerDay: 10 };
const MIN = 60_000;
const HOUR = 60 * MIN;

let ns = "";
let stageUid = "";
let key: Buffer;
/** Every user id and code used, for the no-PII check at the end. */
const userIds: string[] = [];
const codes: string[] = [];

beforeAll(async () => {
  ns = await createTestNamespace(admin, "executions");
  await grantOperatorNamespace(admin, ns);
  const stage = await objects(admin, ns).create("emailauthenticatorstages", STAGE, {});
  stageUid = stage.metadata.uid;
  key = await new CodeKey(core, ns).get();
});

function execution(clock: FakeClock, userId: string): ExecutionData {
  userIds.push(userId);
  const now = clock.now();
  return {
    id: newExecutionId(),
    namespace: ns,
    flow: "login",
    position: 0,
    binding: "login-email",
    stage: STAGE,
    mode: "Setup",
    user: { id: userId },
    client: "system:serviceaccount:apps:web",
    tokenHash: tokenHash(newExecutionToken()),
    state: "code_sent",
    address: ADDRESS,
    addressFixed: false,
    sends: 1,
    lastSentAt: now.toISOString(),
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 30 * MIN).toISOString(),
  };
}

/** A new code for the execution, replacing any previous one (a send or resend). */
async function issue(store: ExecutionRecords, clock: FakeClock, executionId: ExecutionId): Promise<string> {
  const code = generateCode(6);
  codes.push(code);
  const now = clock.now();
  const mac = codeMac(key, { executionId, stage: STAGE, addressKey: ADDRESS_KEY, code });
  await store.putChallenge(
    ns,
    {
      executionId,
      stage: STAGE,
      mac,
      issuedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 10 * MIN).toISOString(),
      attempts: 0,
    },
    stageUid,
  );
  return code;
}

function verifier(clock: FakeClock, userId: string) {
  const store = new ExecutionRecords(core, clock);
  const throttles = new Throttles(core, clock, key);
  return {
    store,
    throttles,
    verify: (executionId: ExecutionId, code: string): Promise<VerifyResult> =>
      verifyCode({
        store,
        throttles,
        key,
        clock,
        limits,
        namespace: ns,
        executionId,
        stage: STAGE,
        userId,
        addressKey: ADDRESS_KEY,
        code,
      }),
  };
}

/** A code that is not `code`. */
const wrong = (code: string): string => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

describe("code key", () => {
  it("two concurrent loaders on a fresh namespace end with the same key, which is then reused", async () => {
    const fresh = await createTestNamespace(admin, "codekey");
    await grantOperatorNamespace(admin, fresh);
    const [a, b] = await Promise.all([new CodeKey(core, fresh).get(), new CodeKey(core, fresh).get()]);
    expect(a).toHaveLength(32);
    expect(b.equals(a)).toBe(true);
    expect((await loadOrCreateKey(core, fresh)).equals(a)).toBe(true);
    const secret = await adminCore.readNamespacedSecret({ namespace: fresh, name: "email-authenticator-code-key" });
    expect(secret.type).toBe(CODE_KEY_SECRET_TYPE);
    expect(secret.metadata?.labels).toEqual({ "app.kubernetes.io/managed-by": "email-authenticator-operator" });
  });

  it("many loaders racing on a fresh namespace all agree", async () => {
    const fresh = await createTestNamespace(admin, "codekey");
    await grantOperatorNamespace(admin, fresh);
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKey(core, fresh)));
    expect(new Set(keys.map((k) => k.toString("hex"))).size).toBe(1);
  });
});

describe("ExecutionRecords", () => {
  it("creates, reads and updates an execution; a stale resourceVersion is refused with 409", async () => {
    const clock = new FakeClock();
    const store = new ExecutionRecords(core, clock);
    const data = execution(clock, "user-crud-1");
    const created = await store.createExecution(data, stageUid);
    expect(created).toMatchObject({ namespace: ns, name: `eao-x-${data.id}`, stageUid, data });

    const read = await store.getExecution(ns, data.id);
    expect(read).toEqual(created);
    const updated = await store.updateExecution(created, { ...data, state: "completed" });
    expect(updated.resourceVersion).not.toBe(created.resourceVersion);
    expect(updated.uid).toBe(created.uid);
    expect((await store.getExecution(ns, data.id))?.data.state).toBe("completed");

    const stale = await store.updateExecution(created, { ...data, state: "denied" }).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ConflictError);
    expect(isConflict(stale)).toBe(true);
    expect((stale as ConflictError).conflict).toMatchObject({ status: 409, reason: "Conflict" });
    expect((await store.getExecution(ns, data.id))?.data.state).toBe("completed");

    const secret = await adminCore.readNamespacedSecret({ namespace: ns, name: created.name });
    expect(secret.type).toBe("emailauth.dev/execution");
    expect(secret.metadata?.ownerReferences).toEqual([
      {
        apiVersion: "emailauth.dev/v1alpha1",
        kind: "EmailAuthenticatorStage",
        name: STAGE,
        uid: stageUid,
        controller: false,
        blockOwnerDeletion: false,
      },
    ]);
    expect(secret.metadata?.labels).toMatchObject({
      "emailauth.dev/component": "execution",
      "emailauth.dev/stage": STAGE,
    });
  });

  it("answers undefined for unknown ids and refuses a malformed record", async () => {
    const store = new ExecutionRecords(core, new FakeClock());
    expect(await store.getExecution(ns, newExecutionId())).toBeUndefined();
    const id = newExecutionId();
    await adminCore.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: `eao-x-${id}` }, type: "emailauth.dev/execution", stringData: { record: "{}" } },
    });
    await expect(store.getExecution(ns, id)).rejects.toBeInstanceOf(MalformedRecordError);
  });

  it("keeps one challenge per execution: a resend replaces it, consumption is preconditioned", async () => {
    const clock = new FakeClock();
    const store = new ExecutionRecords(core, clock);
    const id = newExecutionId();
    await issue(store, clock, id);
    const first = await store.getChallenge(ns, id);
    const counted = await store.incrementAttempts(first!);
    expect(counted.data.attempts).toBe(1);
    await expect(store.incrementAttempts(first!)).rejects.toSatisfy(isConflict);

    await issue(store, clock, id);
    const second = await store.getChallenge(ns, id);
    expect(second?.data.attempts).toBe(0);
    expect(second?.data.mac).not.toBe(first?.data.mac);
    expect(await store.consumeChallenge(counted)).toBe(false);
    expect(await store.consumeChallenge(second!)).toBe(true);
    expect(await store.consumeChallenge(second!)).toBe(false);
    expect(await store.getChallenge(ns, id)).toBeUndefined();
    await store.deleteChallenge(ns, id);
  });
});

describe("verifyCode", () => {
  it("50 concurrent requests with the right code: exactly one succeeds and the challenge is gone", async () => {
    const clock = new FakeClock();
    const { store, throttles, verify } = verifier(clock, "user-race-1");
    const exec = await store.createExecution(execution(clock, "user-race-1"), stageUid);
    const code = await issue(store, clock, exec.data.id);

    const results = await Promise.all(Array.from({ length: 50 }, () => verify(exec.data.id, code)));

    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((r) => !r.ok))
      expect(["invalid_code", "too_many_attempts"]).toContain(!r.ok && r.code);
    expect(await store.getChallenge(ns, exec.data.id)).toBeUndefined();
    // Losing with the right code is not a failure.
    expect(await throttles.failures({ namespace: ns, stage: STAGE, userId: "user-race-1" })).toBe(0);
  });

  it("counts wrong codes down, then refuses even the right code", async () => {
    const clock = new FakeClock();
    const { store, verify } = verifier(clock, "user-wrong-1");
    const exec = await store.createExecution(execution(clock, "user-wrong-1"), stageUid);
    const code = await issue(store, clock, exec.data.id);
    for (let left = 4; left >= 0; left--)
      expect(await verify(exec.data.id, wrong(code))).toEqual({ ok: false, code: "invalid_code", attemptsLeft: left });
    expect(await verify(exec.data.id, code)).toEqual({ ok: false, code: "too_many_attempts" });
    expect((await store.getChallenge(ns, exec.data.id))?.data.attempts).toBe(5);
  });

  it("an expired code is code_expired, by the injected clock", async () => {
    const clock = new FakeClock();
    const { store, verify } = verifier(clock, "user-expiry-1");
    const exec = await store.createExecution(execution(clock, "user-expiry-1"), stageUid);
    const code = await issue(store, clock, exec.data.id);
    clock.advance(10 * MIN);
    expect(await verify(exec.data.id, code)).toEqual({ ok: false, code: "code_expired" });
  });

  it("the 24 h failure cap survives a resend and a new execution, and eases after 24 h", async () => {
    const clock = new FakeClock();
    const user = "user-cap-1";
    const { store, throttles, verify } = verifier(clock, user);
    const exec = await store.createExecution(execution(clock, user), stageUid);
    const firstFailureAt = clock.now();

    const code1 = await issue(store, clock, exec.data.id);
    for (let i = 0; i < 5; i++) {
      await verify(exec.data.id, wrong(code1));
      clock.advance(1000);
    }
    const code2 = await issue(store, clock, exec.data.id); // resend: new code, attempts back to 0
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await verify(exec.data.id, wrong(code2)));
    expect(results.map((r) => !r.ok && r.code === "invalid_code" && r.attemptsLeft)).toEqual([4, 3, 2, 1, 0]);
    expect(await throttles.failures({ namespace: ns, stage: STAGE, userId: user })).toBe(10);

    const exec2 = await store.createExecution(execution(clock, user), stageUid);
    const code3 = await issue(store, clock, exec2.data.id);
    expect(await verify(exec2.data.id, code3)).toEqual({
      ok: false,
      code: "too_many_attempts",
      retryAt: new Date(firstFailureAt.getTime() + 24 * HOUR),
    });

    // Another user on the same stage is not affected.
    const other = verifier(clock, "user-cap-2");
    const exec3 = await store.createExecution(execution(clock, "user-cap-2"), stageUid);
    expect(await other.verify(exec3.data.id, await issue(store, clock, exec3.data.id))).toEqual({ ok: true });

    clock.advance(24 * HOUR);
    const exec4 = await store.createExecution(execution(clock, user), stageUid);
    expect(await verify(exec4.data.id, await issue(store, clock, exec4.data.id))).toEqual({ ok: true });
  });
});

describe("Throttles", () => {
  it("counts sends per address over an hour", async () => {
    const clock = new FakeClock();
    const throttles = new Throttles(core, clock, key);
    const id = { namespace: ns, addressKey: ADDRESS_KEY };
    const first = clock.now();
    for (let i = 1; i <= 3; i++) {
      expect(await throttles.recordSend(id)).toBe(i);
      clock.advance(MIN);
    }
    expect(await throttles.sends(id)).toBe(3);
    expect(await throttles.sends({ namespace: ns, addressKey: "bob@example.com" })).toBe(0);
    expect(await throttles.sendRetryAt(id, 3)).toEqual(new Date(first.getTime() + HOUR));
    expect(await throttles.sendRetryAt(id, 4)).toBeUndefined();
    clock.advance(HOUR - 2 * MIN);
    expect(await throttles.sends(id)).toBe(1);
  });

  it("loses no failure when several are recorded at once", async () => {
    const throttles = new Throttles(core, new FakeClock(), key);
    const id = { namespace: ns, stage: STAGE, userId: "user-parallel-1" };
    userIds.push(id.userId);
    const counts = await Promise.all(Array.from({ length: 12 }, () => throttles.recordFailure(id)));
    expect(counts.toSorted((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(await throttles.failures(id)).toBe(12);
  });
});

describe("what the API server holds", () => {
  /** What the store and throttles wrote (the hand-made malformed Secret above has no labels). */
  const ours = (s: V1Secret) => s.metadata?.labels?.[COMPONENT_LABEL] !== undefined;

  it("no Secret name, label or annotation contains a user id, the address or a code", async () => {
    const secrets = (await adminCore.listNamespacedSecret({ namespace: ns })).items.filter(ours);
    expect(secrets.map((s) => s.metadata?.labels?.[COMPONENT_LABEL])).toEqual(
      expect.arrayContaining(["execution", "challenge", "throttle"]),
    );
    const visible = JSON.stringify(
      secrets.map((s) => ({
        name: s.metadata?.name,
        labels: s.metadata?.labels,
        annotations: s.metadata?.annotations,
      })),
    ).toLowerCase();
    for (const pii of [...userIds, ADDRESS, ADDRESS_KEY, "alice", "example.com"])
      expect(visible).not.toContain(pii.toLowerCase());
    for (const code of codes) expect(visible).not.toContain(code);
    // Challenges and throttles hold MACs and timestamps, never a code.
    for (const s of secrets.filter((s) => s.metadata?.labels?.[COMPONENT_LABEL] !== "execution")) {
      const data = Buffer.from(s.data?.record ?? "", "base64").toString("utf8");
      for (const code of codes) expect(data).not.toContain(`"${code}"`);
      for (const pii of [...userIds, ADDRESS_KEY]) expect(data).not.toContain(pii);
    }
  });

  it("the sweeper deletes expired executions, challenges and throttles, and nothing else", async () => {
    const clock = new FakeClock();
    const store = new ExecutionRecords(core, clock);
    // Live until well after the sweep below.
    const live = execution(clock, "user-live-1");
    await store.createExecution({ ...live, expiresAt: "2027-01-01T00:00:00.000Z" }, stageUid);
    const before = (await adminCore.listNamespacedSecret({ namespace: ns })).items.filter(ours).length;

    const sweeper = new Sweeper({
      core,
      namespaces: () => [ns],
      clock: new FakeClock(new Date("2026-01-05T00:00:00Z")),
      log: createLogger({ level: "silent" }),
      batchSize: 1000,
    });
    const deleted = await sweeper.sweep();

    const left = (await adminCore.listNamespacedSecret({ namespace: ns })).items;
    expect(left.filter(ours).map((s) => s.metadata?.name)).toEqual([`eao-x-${live.id}`]);
    expect(deleted).toBe(before - 1);
    expect(left.map((s) => s.metadata?.name)).toContain("email-authenticator-code-key");
  });
});
