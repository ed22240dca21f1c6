// Execution state against the real API server under the operator's least-privilege identity:
// the code key race between replicas, execution records with preconditioned writes (the pending
// code inside), single use of a code under 50 concurrent requests, attempt and daily budgets
// reserved before a code is judged, expiry, no PII in names or labels, and the sweeper. Records and
// counters live in a namespace standing in for the operator's (granted its Secrets Role), apart
// from the stage's namespace, where the operator may only read Secrets.
import { CoreV1Api, type V1Secret } from "@kubernetes/client-node";
import { createLogger } from "../../src/log/logger.ts";
import { beforeAll, describe, expect, it } from "vitest";
import { CODE_KEY_SECRET_TYPE, COMPONENT_LABEL, STAGE_NAMESPACE_LABEL } from "../../src/kinds/labels.ts";
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
import { controlPlane, createTestNamespace, grantOperatorNamespace, grantOperatorSecrets } from "../harness/context.ts";
import { objects } from "../harness/objects.ts";
import { coreApi, KubeClient } from "@emailauth/operator-runtime";

const plane = controlPlane();
const admin = plane.admin();
const adminCore = admin.makeApiClient(CoreV1Api);
/** Everything under test runs as the operator, with exactly the shipped RBAC. */
const core = coreApi(new KubeClient(plane.operator()));

const STAGE = "relay";
const ADDRESS = "Alice.Wonder@Example.COM";
const ADDRESS_KEY = "alice.wonder@example.com";
const limits = { attemptsPerCode: 5, failuresPerDay: 10 };
const MIN = 60_000;
const HOUR = 60 * MIN;

let ns = "";
/** Stands in for the operator's namespace: records, counters and the code key. */
let own = "";
let stageUid = "";
let key: Buffer;
/** Every user id and code used, for the no-PII check at the end. */
const userIds: string[] = [];
const codes: string[] = [];

beforeAll(async () => {
  ns = await createTestNamespace(admin, "executions");
  await grantOperatorNamespace(admin, ns);
  own = await createTestNamespace(admin, "executions-own");
  await grantOperatorSecrets(admin, own);
  const stage = await objects(admin, ns).create("emailauthenticatorstages", STAGE, {});
  stageUid = stage.metadata.uid;
  key = await new CodeKey(core, own).get();
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
    issued: 0,
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
  const stored = await store.getExecution(ns, executionId);
  if (!stored) throw new Error("no such execution");
  const seq = (stored.data.issued ?? 0) + 1;
  await store.updateExecution(stored, {
    ...stored.data,
    state: "code_sent",
    issued: seq,
    challenge: {
      seq,
      mac: codeMac(key, { executionId, stage: STAGE, addressKey: ADDRESS_KEY, code }),
      issuedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 10 * MIN).toISOString(),
      attempts: 0,
    },
  });
  return code;
}

function verifier(clock: FakeClock) {
  const store = new ExecutionRecords(core, clock, own);
  const throttles = new Throttles(core, clock, key, { namespace: own });
  return {
    store,
    throttles,
    verify: async (executionId: ExecutionId, code: string): Promise<VerifyResult> => {
      const stored = await store.getExecution(ns, executionId);
      if (!stored) throw new Error("no such execution");
      return verifyCode({
        records: store,
        throttles,
        key,
        clock,
        limits,
        stored,
        code,
        complete: (current, consumed) => store.updateExecution(current, { ...consumed, state: "completed" }),
      });
    },
  };
}

const wrong = (code: string): string => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

describe("code key", () => {
  it("two concurrent loaders on a fresh namespace end with the same key, which is then reused", async () => {
    const fresh = await createTestNamespace(admin, "codekey");
    await grantOperatorSecrets(admin, fresh);
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
    await grantOperatorSecrets(admin, fresh);
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKey(core, fresh)));
    expect(new Set(keys.map((k) => k.toString("hex"))).size).toBe(1);
  });
});

describe("ExecutionRecords", () => {
  it("creates, reads and updates an execution; a stale resourceVersion is refused with 409", async () => {
    const clock = new FakeClock();
    const store = new ExecutionRecords(core, clock, own);
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

    // In the operator's namespace, nothing in the stage's; found by the stage's labels.
    const secret = await adminCore.readNamespacedSecret({ namespace: own, name: created.name });
    expect(secret.type).toBe("emailauth.dev/execution");
    expect(secret.metadata?.ownerReferences).toBeUndefined();
    expect(secret.metadata?.labels).toMatchObject({
      "emailauth.dev/component": "execution",
      "emailauth.dev/stage-namespace": ns,
      "emailauth.dev/stage": STAGE,
      "emailauth.dev/stage-uid": stageUid,
    });
    expect(
      (await adminCore.listNamespacedSecret({ namespace: ns, labelSelector: "emailauth.dev/component" })).items,
    ).toEqual([]);
    const selected = await adminCore.listNamespacedSecret({
      namespace: own,
      labelSelector: `emailauth.dev/stage-namespace=${ns},emailauth.dev/stage=${STAGE}`,
    });
    expect(selected.items.map((s) => s.metadata?.name)).toContain(created.name);
  });

  it("does not find a record under another namespace than its stage's", async () => {
    const clock = new FakeClock();
    const store = new ExecutionRecords(core, clock, own);
    const data = execution(clock, "user-elsewhere-1");
    await store.createExecution(data, stageUid);
    expect(await store.getExecution(`${ns}-other`, data.id)).toBeUndefined();
    expect((await store.getExecution(ns, data.id))?.data.id).toBe(data.id);
  });

  it("cannot write Secrets in the stage's namespace, only read them", async () => {
    const clock = new FakeClock();
    const misplaced = new ExecutionRecords(core, clock, ns);
    const err = await misplaced
      .createExecution(execution(clock, "user-misplaced-1"), stageUid)
      .catch((e: unknown) => e);
    expect((err as { code?: number }).code).toBe(403);
  });

  it("answers undefined for unknown ids and refuses a malformed record", async () => {
    const store = new ExecutionRecords(core, new FakeClock(), own);
    expect(await store.getExecution(ns, newExecutionId())).toBeUndefined();
    const id = newExecutionId();
    await adminCore.createNamespacedSecret({
      namespace: own,
      body: {
        metadata: { name: `eao-x-${id}`, labels: { [STAGE_NAMESPACE_LABEL]: ns } },
        type: "emailauth.dev/execution",
        stringData: { record: "{}" },
      },
    });
    await expect(store.getExecution(ns, id)).rejects.toBeInstanceOf(MalformedRecordError);
  });
});

describe("verifyCode", () => {
  it("50 concurrent requests with the right code: one succeeds, the others are told it was used", async () => {
    const clock = new FakeClock();
    const { store, verify, throttles } = verifier(clock);
    const data = execution(clock, "user-race-1");
    await store.createExecution(data, stageUid);
    const code = await issue(store, clock, data.id);
    const results = await Promise.all(Array.from({ length: 50 }, () => verify(data.id, code)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((r) => !r.ok))
      expect(["code_used", "no_code_pending"]).toContain((r as { refusal: { kind: string } }).refusal.kind);
    expect((await store.getExecution(ns, data.id))?.data).toMatchObject({ state: "completed", usedSeq: 1 });
    // Right codes cost nothing: every slot they reserved was given back.
    expect(await throttles.failures({ namespace: ns, stage: STAGE, userId: "user-race-1" })).toBe(0);
  });

  it("counts wrong codes down, then refuses even the right code", async () => {
    const clock = new FakeClock();
    const { store, verify } = verifier(clock);
    const data = execution(clock, "user-count-1");
    await store.createExecution(data, stageUid);
    const code = await issue(store, clock, data.id);
    for (let left = 4; left >= 0; left--)
      expect(await verify(data.id, wrong(code))).toEqual({
        ok: false,
        refusal: { kind: "invalid_code", attemptsLeft: left },
      });
    expect(await verify(data.id, code)).toEqual({ ok: false, refusal: { kind: "code_spent" } });
  });

  it("the 24 h budget holds across executions under concurrency, and eases after 24 h", async () => {
    const clock = new FakeClock();
    const { store, verify } = verifier(clock);
    const runs: { id: ExecutionId; code: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const data = execution(clock, "user-daily-1");
      await store.createExecution(data, stageUid);
      runs.push({ id: data.id, code: await issue(store, clock, data.id) });
    }
    // 4 executions x 5 wrong codes at once against a budget of 10.
    const results = await Promise.all(
      runs.flatMap((r) => Array.from({ length: 5 }, () => verify(r.id, wrong(r.code)))),
    );
    const kinds = results.map((r) => (r.ok ? "ok" : r.refusal.kind));
    expect(kinds.filter((k) => k === "invalid_code")).toHaveLength(10);
    expect(kinds.filter((k) => k !== "invalid_code").every((k) => k === "failure_limit")).toBe(true);
    const fresh = execution(clock, "user-daily-1");
    await store.createExecution(fresh, stageUid);
    const code = await issue(store, clock, fresh.id);
    expect(await verify(fresh.id, code)).toMatchObject({ ok: false, refusal: { kind: "failure_limit" } });
    clock.advance(24 * HOUR);
    const later = execution(clock, "user-daily-1");
    await store.createExecution(later, stageUid);
    expect(await verify(later.id, await issue(store, clock, later.id))).toMatchObject({ ok: true });
  });
});

describe("Throttles", () => {
  it("grants exactly the limit of many concurrent reservations, and a release gives one back", async () => {
    const throttles = new Throttles(core, new FakeClock(), key, { namespace: own });
    const id = { namespace: ns, addressKey: "parallel@example.com" };
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => throttles.reserveSend(id, 5, `x${i}`)));
    const granted = results.filter((r) => r.ok);
    expect(granted).toHaveLength(5);
    expect(await throttles.sends(id)).toBe(5);
    const first = granted[0];
    if (first?.ok) await throttles.release(first.slot);
    expect(await throttles.sends(id)).toBe(4);
    expect((await throttles.reserveSend(id, 5, "again")).ok).toBe(true);
    expect((await throttles.reserveSend(id, 5, "again")).ok).toBe(false);
  });

  it("writes a counter it saw last without reading it again, and re-reads when another replica wrote since", async () => {
    const calls: string[] = [];
    // The real client, with each call it makes noted (the API server answers them all).
    const counted = new Proxy(core, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls.push(String(prop));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const clock = new FakeClock();
    const mine = new Throttles(counted, clock, key, { namespace: own });
    const theirs = new Throttles(core, clock, key, { namespace: own });
    const id = { namespace: ns, addressKey: "remembered@example.com" };
    const noted = async <T>(act: () => Promise<T>): Promise<[T, string[]]> => {
      calls.length = 0;
      const result = await act();
      return [result, [...calls]];
    };

    const [first, firstCalls] = await noted(() => mine.reserveSend(id, 5, "a"));
    expect(firstCalls).toEqual(["listNamespacedSecret", "createNamespacedSecret"]);
    const [second, secondCalls] = await noted(() => mine.reserveSend(id, 5, "b"));
    expect(secondCalls).toEqual(["replaceNamespacedSecret"]);
    if (!first.ok || !second.ok) throw new Error("reservations below the limit must be granted");
    expect((await noted(() => mine.release(second.slot)))[1]).toEqual(["replaceNamespacedSecret"]);
    expect((await noted(() => mine.release(first.slot)))[1]).toEqual(["deleteNamespacedSecret"]);
    expect(await theirs.sends(id)).toBe(0);

    // Gone, as far as this replica knows: the next entry creates the counter without a read.
    const [third, thirdCalls] = await noted(() => mine.reserveSend(id, 5, "c"));
    expect(thirdCalls).toEqual(["createNamespacedSecret"]);
    // Another replica writes; this one's memory is stale (its own entry alone, so a delete), the
    // delete is refused and it reads.
    expect((await theirs.reserveSend(id, 5, "d")).ok).toBe(true);
    if (!third.ok) throw new Error("a reservation below the limit must be granted");
    expect((await noted(() => mine.release(third.slot)))[1]).toEqual([
      "deleteNamespacedSecret",
      "listNamespacedSecret",
      "replaceNamespacedSecret",
    ]);
    expect(await theirs.sends(id)).toBe(1);
  });

  it("refuses only on a fresh read: a slot another replica gave back is granted", async () => {
    const clock = new FakeClock();
    const a = new Throttles(core, clock, key, { namespace: own });
    const b = new Throttles(core, clock, key, { namespace: own });
    const id = { namespace: ns, addressKey: "given-back@example.com" };
    expect((await a.reserveSend(id, 2, "a1")).ok).toBe(true);
    const theirs = await b.reserveSend(id, 2, "b1");
    // a remembers one entry; its write is refused, it reads two and refuses.
    expect(await a.reserveSend(id, 2, "a2")).toMatchObject({ ok: false, own: 0 });
    if (!theirs.ok) throw new Error("a reservation below the limit must be granted");
    await b.release(theirs.slot);
    // a still remembers a full counter; the refusal it would make from memory is checked first.
    expect((await a.reserveSend(id, 2, "a3")).ok).toBe(true);
    expect(await b.sends(id)).toBe(2);
  });

  it("counts sends per address over an hour, and tells how many were one execution's", async () => {
    const clock = new FakeClock();
    const throttles = new Throttles(core, clock, key, { namespace: own });
    const id = { namespace: ns, addressKey: "hourly@example.com" };
    expect((await throttles.reserveSend(id, 2, "mine")).ok).toBe(true);
    clock.advance(MIN);
    expect((await throttles.reserveSend(id, 2, "theirs")).ok).toBe(true);
    expect(await throttles.reserveSend(id, 2, "mine")).toMatchObject({ ok: false, own: 1 });
    clock.advance(HOUR - MIN + 1);
    expect((await throttles.reserveSend(id, 2, "mine")).ok).toBe(true);
  });
});

describe("what the API server holds", () => {
  /** What the store and throttles wrote (the hand-made malformed Secret above has no component label). */
  const ours = (s: V1Secret) => s.metadata?.labels?.[COMPONENT_LABEL] !== undefined;

  it("no Secret name, label or annotation contains a user id, the address or a code", async () => {
    const secrets = (await adminCore.listNamespacedSecret({ namespace: own })).items.filter(ours);
    expect(secrets.map((s) => s.metadata?.labels?.[COMPONENT_LABEL])).toEqual(
      expect.arrayContaining(["execution", "throttle"]),
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
    // Counters name their stage's namespace, so they can be found per namespace too.
    for (const s of secrets) expect(s.metadata?.labels?.[STAGE_NAMESPACE_LABEL]).toBe(ns);
    // Throttles hold timestamps and ids, never a code or whose they are.
    for (const s of secrets.filter((s) => s.metadata?.labels?.[COMPONENT_LABEL] !== "execution")) {
      const data = Buffer.from(s.data?.record ?? "", "base64").toString("utf8");
      for (const code of codes) expect(data).not.toContain(`"${code}"`);
      for (const pii of [...userIds, ADDRESS_KEY]) expect(data).not.toContain(pii);
    }
  });

  it("the sweeper deletes expired executions and throttles, and nothing else", async () => {
    const clock = new FakeClock();
    const store = new ExecutionRecords(core, clock, own);
    // Live until well after the sweep below.
    const live = execution(clock, "user-live-1");
    await store.createExecution({ ...live, expiresAt: "2027-01-01T00:00:00.000Z" }, stageUid);
    const before = (await adminCore.listNamespacedSecret({ namespace: own })).items.filter(ours).length;

    const sweeper = new Sweeper({
      core,
      namespace: own,
      clock: new FakeClock(new Date("2026-01-05T00:00:00Z")),
      log: createLogger({ level: "silent" }),
      batchSize: 1000,
    });
    const deleted = await sweeper.sweep();

    const left = (await adminCore.listNamespacedSecret({ namespace: own })).items;
    expect(left.filter(ours).map((s) => s.metadata?.name)).toEqual([`eao-x-${live.id}`]);
    expect(deleted).toBe(before - 1);
    expect(left.map((s) => s.metadata?.name)).toContain("email-authenticator-code-key");
  });
});
