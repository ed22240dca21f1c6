// SMTP failures through the HTTP API, against the real API server and real SMTP servers: a relay
// that is down, one that never answers, and one that refuses the credentials. Each failure is a
// 503 smtp_unavailable problem that carries the execution (usable for a retry), leaves no valid
// code, is recorded as a Warning Event on the stage and in the send-failure metric, and never
// shows a password. Once the relay is fixed, a resend delivers a code that verifies.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import {
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  PatchStrategy,
  setHeaderOptions,
  type EventsV1Event,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import { problem } from "../../src/http/schemas.ts";
import {
  codeIn,
  createFlow,
  devicesApi,
  startApiFixture,
  type ApiFixture,
  type ApiResponse,
} from "../harness/api-fixture.ts";
import { OPERATOR_NAMESPACE } from "../harness/controlplane.ts";
import { Mailpit } from "../harness/mailpit.ts";
import { createTestPki } from "../harness/pki.ts";
import { freePort } from "../harness/ports.ts";

const RIGHT_PASSWORD = `right-Pa55-${randomBytes(6).toString("hex")}`;
const WRONG_PASSWORD = `wrong-Pa55-${randomBytes(6).toString("hex")}`;
/** This test's records and counters, in the operator's namespace. */
const RECORDS = () => `emailauth.dev/component in (execution,challenge,throttle),emailauth.dev/stage-namespace=${f.ns}`;

let f: ApiFixture;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let events: EventsV1Api;
let withAuth: Mailpit;
let silent: Server;
let silentConnections = 0;
/** The relay certificates' directory, removed at the end. */
let pkiDir: string | undefined;
const sockets = new Set<Socket>();
let closedPort = 0;
let silentPort = 0;

const start = (flow: string, user: Record<string, unknown>) =>
  f.call("POST", `/api/v1/namespaces/${f.ns}/flows/${flow}/executions`, { user }, f.appToken);
const submit = (id: unknown, body: unknown, token: unknown) =>
  f.call("POST", `/api/v1/executions/${String(id)}`, body, String(token));
const get = (id: unknown, token: unknown) =>
  f.call("GET", `/api/v1/executions/${String(id)}`, undefined, String(token));

/** A stage with its own connection (not the global settings), and a Setup flow of the same name. */
async function stageWithFlow(name: string, connection: Record<string, unknown>): Promise<void> {
  await createFlow(
    f,
    name,
    {
      useGlobalSettings: false,
      friendlyName: "Email code",
      subject: "Your sign-in code",
      connection: { host: "127.0.0.1", fromAddress: "codes@example.com", ...connection },
    },
    [{ name, flow: name, intent: "Setup" }],
  );
}

async function patchConnection(stage: string, connection: Record<string, unknown>): Promise<void> {
  const at = { group: GROUP, version: VERSION, namespace: f.ns, plural: "emailauthenticatorstages", name: stage };
  await custom.patchNamespacedCustomObject(
    { ...at, body: { spec: { connection } } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}

/** Send failures of a stage by reason, from the in-process operator's metrics. */
async function sendFailures(stage: string, reason: string): Promise<number> {
  return metricValue("emailauth_email_send_failures_total", { namespace: f.ns, stage, reason });
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  if (!f.metrics) throw new Error("the API fixture does not expose metrics");
  const text = await f.metrics();
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) found[l[1] ?? ""] = l[2] ?? "";
    if (
      Object.entries(labels).every(([k, v]) => found[k] === v) &&
      Object.keys(found).length === Object.keys(labels).length
    )
      return Number(m[3]);
  }
  return 0;
}

/** Warning Events with reason EmailSendFailed about this stage. */
async function sendFailedEvents(stage: string): Promise<EventsV1Event[]> {
  const list = await events.listNamespacedEvent({ namespace: f.ns });
  return list.items.filter((e) => e.reason === "EmailSendFailed" && e.regarding?.name === stage);
}

async function records(): Promise<string[]> {
  return (await core.listNamespacedSecret({ namespace: OPERATOR_NAMESPACE, labelSelector: RECORDS() })).items
    .map((s) => s.metadata?.name ?? "")
    .sort();
}

const hexOf = (id: unknown) => String(id).split(".")[1] ?? "";

/** Whether the execution record holds a pending code (its MAC); the code itself never is anywhere. */
async function challengeExists(id: unknown): Promise<boolean> {
  const secret = await core.readNamespacedSecret({ namespace: OPERATOR_NAMESPACE, name: `eao-x-${hexOf(id)}` });
  const record = JSON.parse(Buffer.from(secret.data?.record ?? "", "base64").toString("utf8")) as {
    challenge?: unknown;
  };
  return record.challenge !== undefined;
}

/**
 * 503 smtp_unavailable naming `reason`, carrying the execution in state send_failed — with its
 * token when the failure answers the request that started it (the caller has no other way to
 * retry), without it on later requests.
 */
function expectSendFailed(
  res: ApiResponse,
  reason: string,
  flow: string,
  maskedEmail: string,
  withToken = true,
): { id: string; token: string } {
  const context = JSON.stringify(res.body);
  expect(res.status, context).toBe(503);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
  expect(problem.safeParse(res.body).success, context).toBe(true);
  expect(res.body, context).toMatchObject({
    status: 503,
    code: "smtp_unavailable",
    type: "https://emailauth.dev/problems/smtp-unavailable",
  });
  // The application learns what the relay said; the end user (execution token) does not.
  if (withToken) expect(String(res.body.detail)).toContain(reason);
  else expect(String(res.body.detail)).not.toContain(reason);
  expect(res.body.execution, context).toMatchObject({
    id: expect.stringMatching(new RegExp(`^${f.ns}\\.[0-9a-f]{32}$`)) as unknown,
    namespace: f.ns,
    flow,
    state: "send_failed",
    challenge: { type: "code", stage: flow, maskedEmail },
  });
  const execution = res.body.execution as { id: string; token: string };
  if (withToken) expect(execution.token).toMatch(/^eaox_/);
  else expect(execution.token).toBeUndefined();
  return { id: execution.id, token: execution.token };
}

/** The Event for this failure: a Warning on the stage, the reason first, the relay named. */
async function expectFailureEvent(
  stage: string,
  countBefore: number,
  reason: string,
  relay: string,
): Promise<EventsV1Event> {
  const found = await sendFailedEvents(stage);
  expect(found).toHaveLength(countBefore + 1);
  const uid = (
    (await custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: f.ns,
      plural: "emailauthenticatorstages",
      name: stage,
    })) as { metadata: { uid: string } }
  ).metadata.uid;
  const event = found.find((e) => e.note?.startsWith(`${reason}: `)) ?? found[found.length - 1];
  expect(event).toMatchObject({
    type: "Warning",
    reason: "EmailSendFailed",
    regarding: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: "EmailAuthenticatorStage",
      name: stage,
      namespace: f.ns,
      uid,
    },
  });
  expect(event?.note).toMatch(new RegExp(`^${reason}: `));
  expect(event?.note).toContain(relay);
  return event as EventsV1Event;
}

beforeAll(async () => {
  f = await startApiFixture("smtp");
  core = f.admin.makeApiClient(CoreV1Api);
  custom = f.admin.makeApiClient(CustomObjectsApi);
  events = f.admin.makeApiClient(EventsV1Api);

  const pki = createTestPki();
  pkiDir = pki.dir;
  const authFile = join(pki.dir, "smtp-users");
  writeFileSync(
    authFile,
    `mailer:${execFileSync("openssl", ["passwd", "-apr1", RIGHT_PASSWORD], { encoding: "utf8" }).trim()}\n`,
  );
  withAuth = await Mailpit.start({ tls: { mode: "starttls", certFile: pki.certFile, keyFile: pki.keyFile }, authFile });

  // Accepts connections and never greets: a relay that hangs.
  silent = createServer((s) => {
    silentConnections++;
    sockets.add(s);
    s.on("close", () => sockets.delete(s)).on("error", () => {});
  });
  silentPort = await freePort();
  await new Promise<void>((r) => silent.listen(silentPort, "127.0.0.1", r));
  closedPort = await freePort();

  await core.createNamespacedSecret({
    namespace: f.ns,
    body: { metadata: { name: "relay-credentials" }, stringData: { username: "mailer", password: WRONG_PASSWORD } },
  });
  await core.createNamespacedSecret({
    namespace: f.ns,
    body: { metadata: { name: "relay-ca" }, stringData: { "ca.crt": pki.caPem } },
  });

  await stageWithFlow("down", { port: closedPort, timeout: 2 });
  await stageWithFlow("slow", { port: silentPort, timeout: 1 });
  await stageWithFlow("authed", {
    port: withAuth.smtpPort,
    timeout: 5,
    useTLS: true,
    credentialsSecretRef: { name: "relay-credentials" },
    caBundleSecretRef: { name: "relay-ca" },
  });
}, 120_000);

afterAll(async () => {
  await f?.stop();
  await withAuth?.stop();
  for (const s of sockets) s.destroy();
  await new Promise((r) => (silent ? silent.close(r) : r(undefined)));
  if (pkiDir) rmSync(pkiDir, { recursive: true, force: true });
});

describe("a relay that is down", () => {
  it("answers 503 smtp_unavailable with a usable execution, leaves no code, records an Event and the metric; a resend after the fix works", async () => {
    const relay = `127.0.0.1:${closedPort}`;
    const [failuresBefore, eventsBefore, recordsBefore] = [
      await sendFailures("down", "ConnectionFailed"),
      (await sendFailedEvents("down")).length,
      await records(),
    ];
    const devicesBefore = await devicesApi(f.admin, f.ns)();

    const started = Date.now();
    const res = await start("down", { id: "dana", email: "dana@example.com", name: "Dana" });
    expect(Date.now() - started).toBeLessThan(3000);
    const execution = expectSendFailed(res, "ConnectionFailed", "down", "d***@e******.com");

    // Nothing half-written: the execution is kept for the retry, but no code, no counted send, no device.
    expect(await records()).toEqual([...recordsBefore, `eao-x-${hexOf(execution.id)}`].sort());
    expect(await challengeExists(execution.id)).toBe(false);
    expect(await devicesApi(f.admin, f.ns)()).toEqual(devicesBefore);
    expect((await get(execution.id, execution.token)).body).toMatchObject({ state: "send_failed" });
    const guess = await submit(execution.id, { code: "000000" }, execution.token);
    expect(guess.status).toBe(400);
    expect(guess.body).toMatchObject({ code: "invalid_code", attemptsLeft: 0 });
    expect((await f.mailpit.messages()).some((m) => m.To.some((t) => t.Address === "dana@example.com"))).toBe(false);

    await expectFailureEvent("down", eventsBefore, "ConnectionFailed", relay);
    expect(await sendFailures("down", "ConnectionFailed")).toBe(failuresBefore + 1);

    // The relay comes back (the stage now points at the working Mailpit).
    await patchConnection("down", { port: f.mailpit.smtpPort });
    await f.k.waitFor(
      "emailauthenticatorstages",
      "down",
      (o) =>
        !!o &&
        o.status?.observedGeneration === o.metadata.generation &&
        (o.status?.connection as { endpoint?: string } | undefined)?.endpoint === `127.0.0.1:${f.mailpit.smtpPort}`,
      "the new port is seen",
    );

    // The failed send started no cooldown: the resend is accepted at once, without moving the clock.
    const sentBefore = await metricValue("emailauth_emails_sent_total", { namespace: f.ns, stage: "down" });
    const resent = await submit(execution.id, { resend: true }, execution.token);
    expect(resent.status, JSON.stringify(resent.body)).toBe(200);
    expect(resent.body).toMatchObject({
      id: execution.id,
      state: "code_sent",
      challenge: { type: "code", maskedEmail: "d***@e******.com" },
    });
    expect(resent.body.token).toBeUndefined();
    expect(await metricValue("emailauth_emails_sent_total", { namespace: f.ns, stage: "down" })).toBe(sentBefore + 1);

    const mail = await f.mailpit.waitForMessageTo("dana@example.com");
    expect(mail.From.Address).toBe("codes@example.com");
    const done = await submit(execution.id, { code: codeIn(mail) }, execution.token);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({
      state: "completed",
      result: { user: "dana", stage: "down", maskedEmail: "d***@e******.com" },
    });
    const device = (await devicesApi(f.admin, f.ns)()).find((d) => (d.spec.user as { id: string }).id === "dana");
    expect(device?.spec).toMatchObject({ email: "dana@example.com", confirmed: true, stageRef: { name: "down" } });
    // No more failures were counted for the stage.
    expect(await sendFailures("down", "ConnectionFailed")).toBe(failuresBefore + 1);
  });
});

describe("a relay that never answers", () => {
  it("answers 503 smtp_unavailable within the stage timeout, with reason Timeout in the Event and the metric", async () => {
    const [failuresBefore, eventsBefore, recordsBefore, connectionsBefore] = [
      await sendFailures("slow", "Timeout"),
      (await sendFailedEvents("slow")).length,
      await records(),
      silentConnections,
    ];

    const started = Date.now();
    const res = await start("slow", { id: "sam", email: "sam@example.com" });
    const elapsed = Date.now() - started;
    const execution = expectSendFailed(res, "Timeout", "slow", "s**@e******.com");
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(5000);
    expect(silentConnections).toBeGreaterThan(connectionsBefore);

    expect(await records()).toEqual([...recordsBefore, `eao-x-${hexOf(execution.id)}`].sort());
    await expectFailureEvent("slow", eventsBefore, "Timeout", `127.0.0.1:${silentPort}`);
    expect(await sendFailures("slow", "Timeout")).toBe(failuresBefore + 1);
    expect(await sendFailures("slow", "ConnectionFailed")).toBe(0);

    // A retry against the same silent relay fails the same way, just as fast, and still leaves no code.
    const again = Date.now();
    const resent = await submit(execution.id, { resend: true }, execution.token);
    expect(Date.now() - again).toBeLessThan(5000);
    expect(expectSendFailed(resent, "Timeout", "slow", "s**@e******.com", false).id).toBe(execution.id);
    expect(await challengeExists(execution.id)).toBe(false);
    expect(await sendFailures("slow", "Timeout")).toBe(failuresBefore + 2);
    // Repeated failures are one Event series with a count, not one Event each.
    // A busy API server's refusal of the series update is retried: give it a moment.
    let series = await sendFailedEvents("slow");
    for (let i = 0; i < 50 && series.at(-1)?.series?.count !== 2; i++) {
      await new Promise((r) => setTimeout(r, 200));
      series = await sendFailedEvents("slow");
    }
    // On failure, the operator's own word on the Event write.
    const eventLogs = f
      .logs()
      .split("\n")
      .filter((l) => l.includes("send-failure Event"))
      .join("\n");
    expect(series, eventLogs).toHaveLength(eventsBefore + 1);
    expect(series.at(-1)?.series?.count, eventLogs).toBe(2);
  });
});

describe("a relay that refuses the credentials", () => {
  const leaks = (text: string) =>
    [
      RIGHT_PASSWORD,
      WRONG_PASSWORD,
      Buffer.from(RIGHT_PASSWORD).toString("base64"),
      Buffer.from(WRONG_PASSWORD).toString("base64"),
    ].filter((p) => text.includes(p));

  it("answers 503 smtp_unavailable (AuthFailed) without showing the password anywhere; fixing the Secret makes the resend work", async () => {
    const relay = `127.0.0.1:${withAuth.smtpPort}`;
    const [failuresBefore, eventsBefore, recordsBefore] = [
      await sendFailures("authed", "AuthFailed"),
      (await sendFailedEvents("authed")).length,
      await records(),
    ];

    const res = await start("authed", { id: "ada", email: "ada@example.com", name: "Ada" });
    const execution = expectSendFailed(res, "AuthFailed", "authed", "a**@e******.com");
    expect(await records()).toEqual([...recordsBefore, `eao-x-${hexOf(execution.id)}`].sort());
    const event = await expectFailureEvent("authed", eventsBefore, "AuthFailed", relay);
    expect(await sendFailures("authed", "AuthFailed")).toBe(failuresBefore + 1);
    expect(await withAuth.messages()).toHaveLength(0);

    // The password is in no response, Event, log line or status.
    expect(leaks(JSON.stringify(res.body))).toEqual([]);
    expect(leaks([...res.headers.entries()].join("\n"))).toEqual([]);
    expect(leaks(JSON.stringify(event))).toEqual([]);
    expect(leaks(JSON.stringify(await sendFailedEvents("authed")))).toEqual([]);
    expect(leaks(f.logs())).toEqual([]);
    expect(leaks(JSON.stringify(await f.k.get("emailauthenticatorstages", "authed")))).toEqual([]);
    expect(leaks(JSON.stringify((await get(execution.id, execution.token)).body))).toEqual([]);

    // The Secret is fixed; the next send reads it fresh.
    await core.patchNamespacedSecret(
      {
        namespace: f.ns,
        name: "relay-credentials",
        body: { data: { password: Buffer.from(RIGHT_PASSWORD).toString("base64") } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    const resent = await submit(execution.id, { resend: true }, execution.token);
    expect(resent.status, JSON.stringify(resent.body)).toBe(200);
    expect(resent.body).toMatchObject({ state: "code_sent", challenge: { maskedEmail: "a**@e******.com" } });

    const mail = await withAuth.waitForMessageTo("ada@example.com");
    expect(mail.To).toEqual([{ Address: "ada@example.com", Name: "Ada" }]);
    const done = await submit(execution.id, { code: codeIn(mail) }, execution.token);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ state: "completed", result: { user: "ada", stage: "authed" } });
    expect(await sendFailures("authed", "AuthFailed")).toBe(failuresBefore + 1);

    // Still nowhere, now that the right password has been used too.
    expect(leaks(f.logs())).toEqual([]);
    expect(leaks(JSON.stringify(await events.listNamespacedEvent({ namespace: f.ns })))).toEqual([]);
    expect(leaks(JSON.stringify(await f.k.get("emailauthenticatorstages", "authed")))).toEqual([]);
    expect(leaks(JSON.stringify(done.body) + JSON.stringify(resent.body))).toEqual([]);
  });
});
