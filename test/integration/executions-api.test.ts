// Flows end to end through the HTTP API: a real API server, a real Mailpit, the operator's
// least-privilege identity. Setup with a known address or one the user gives, authentication
// with the saved device, what happens without one, and who may call.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoreV1Api } from "@kubernetes/client-node";
import { STAGE_UID_LABEL } from "../../src/kinds/labels.ts";
import { codeIn, createFlow, devicesApi, startApiFixture, type ApiFixture } from "../harness/api-fixture.ts";
import { OPERATOR_NAMESPACE } from "../harness/controlplane.ts";
import { readyIs } from "../harness/objects.ts";

let f: ApiFixture;
const start = (flow: string, user: Record<string, unknown>, token = f.appToken) =>
  f.call("POST", `/api/v1/namespaces/${f.ns}/flows/${flow}/executions`, { user }, token);
const submit = (id: unknown, body: unknown, token: unknown) =>
  f.call("POST", `/api/v1/executions/${String(id)}`, body, String(token));

beforeAll(async () => {
  f = await startApiFixture("api");
  await createFlow(f, "email", { useGlobalSettings: true, subject: "Your sign-in code", friendlyName: "Email code" }, [
    { name: "enroll", flow: "enroll", intent: "Setup" },
    { name: "login", flow: "login", intent: "Authenticate" },
    { name: "login-or-enroll", flow: "login-or-enroll", intent: "Authenticate", whenNoDevice: "Setup" },
  ]);
}, 120_000);

afterAll(async () => {
  await f?.stop();
});

describe("setup flow", () => {
  it("sends a code to the known address, and the verified address becomes a confirmed device", async () => {
    const started = await start("enroll", { id: "alice", email: "Alice@Example.COM", name: "Alice Example" });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({
      flow: "enroll",
      state: "code_sent",
      challenge: { type: "code", stage: "email", maskedEmail: "A****@e******.com", codeLength: 6 },
    });
    expect(String(started.body.id)).toMatch(new RegExp(`^${f.ns}\\.[0-9a-f]{32}$`));
    expect(String(started.body.token)).toMatch(/^eaox_/);

    const mail = await f.mailpit.waitForMessageTo("Alice@example.com");
    expect(mail.Subject).toBe("Your sign-in code");
    expect(mail.From.Address).toBe("codes@example.com");
    expect(mail.To[0]?.Name).toBe("Alice Example");
    const code = codeIn(mail);
    expect(mail.HTML).toContain(code);
    expect(mail.Subject).not.toContain(code);

    const done = await submit(started.body.id, { code }, started.body.token);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      state: "completed",
      result: { user: "alice", stage: "email", maskedEmail: "A****@e******.com" },
    });
    const devices = await devicesApi(f.admin, f.ns)();
    const device = devices.find((d) => (d.spec.user as { id: string }).id === "alice");
    expect(device?.spec).toMatchObject({ email: "Alice@example.com", confirmed: true, stageRef: { name: "email" } });
    expect(device?.metadata.name).toBe((done.body.result as { device: string }).device);
    expect(device?.metadata.name).not.toContain("alice");
    // The token does not expose the execution to anyone else; GET works for its holder.
    expect(
      (await f.call("GET", `/api/v1/executions/${String(started.body.id)}`, undefined, String(started.body.token))).body
        .state,
    ).toBe("completed");
  });

  it("asks for an address first when none is known", async () => {
    const started = await start("enroll", { id: "bob" });
    expect(started.body).toMatchObject({ state: "email_required", challenge: { type: "email" } });
    const early = await submit(started.body.id, { code: "123456" }, started.body.token);
    expect(early.body).toMatchObject({ status: 400, code: "email_required" });
    const withEmail = await submit(started.body.id, { email: "bob@bücher.example" }, started.body.token);
    expect(withEmail.body).toMatchObject({
      state: "code_sent",
      challenge: { maskedEmail: "b**@x************.example" },
    });
    const code = codeIn(await f.mailpit.waitForMessageTo("bob@xn--bcher-kva.example"));
    const done = await submit(started.body.id, { code }, started.body.token);
    expect(done.body).toMatchObject({ state: "completed", result: { user: "bob" } });
  });

  it("confirms a pending device declared for the proven address, and replaces one for another address", async () => {
    const { deviceName } = await import("../../src/devices/devices.ts");
    for (const [user, declared] of [
      ["frank", "frank@example.com"],
      ["grace", "old-grace@example.com"],
    ] as const) {
      await f.k.create("emaildevices", deviceName("email", user), {
        stageRef: { name: "email" },
        user: { id: user },
        email: declared,
        confirmed: false,
      });
      const started = await start("enroll", { id: user, email: `${user}@example.com` });
      const code = codeIn(await f.mailpit.waitForMessageTo(`${user}@example.com`));
      expect((await submit(started.body.id, { code }, started.body.token)).body).toMatchObject({ state: "completed" });
      const device = await f.k.get("emaildevices", deviceName("email", user));
      expect(device?.spec).toMatchObject({ email: `${user}@example.com`, confirmed: true });
    }
  });

  it("refuses a second device for the same user and stage", async () => {
    const again = await start("enroll", { id: "alice", email: "other@example.com" });
    expect(again.body).toMatchObject({ state: "denied", denial: { code: "device_exists" } });
  });
});

describe("authenticate flow", () => {
  it("sends the code to the saved device, whatever address the application gives", async () => {
    await f.mailpit.deleteAll();
    const started = await start("login", { id: "alice", email: "mallory@example.com" });
    expect(started.body).toMatchObject({ state: "code_sent", challenge: { maskedEmail: "A****@e******.com" } });
    const mail = await f.mailpit.waitForMessageTo("Alice@example.com");
    expect((await f.mailpit.messages()).some((m) => m.To.some((t) => t.Address === "mallory@example.com"))).toBe(false);
    const done = await submit(started.body.id, { code: codeIn(mail) }, started.body.token);
    expect(done.body).toMatchObject({ state: "completed", result: { user: "alice" } });
    const device = (await devicesApi(f.admin, f.ns)()).find((d) => (d.spec.user as { id: string }).id === "alice");
    expect(device?.status?.lastUsedAt).toBeDefined();
  });

  it("denies a user without a device, or sets one up when the binding says so", async () => {
    expect((await start("login", { id: "carol", email: "carol@example.com" })).body).toMatchObject({
      state: "denied",
      denial: { code: "no_device" },
    });
    const fallback = await start("login-or-enroll", { id: "carol" });
    expect(fallback.body).toMatchObject({ state: "email_required" });
    await submit(fallback.body.id, { email: "carol@example.com" }, fallback.body.token);
    const code = codeIn(await f.mailpit.waitForMessageTo("carol@example.com"));
    expect((await submit(fallback.body.id, { code }, fallback.body.token)).body).toMatchObject({
      state: "completed",
      result: { user: "carol" },
    });
    expect(
      (await devicesApi(f.admin, f.ns)()).some(
        (d) => (d.spec.user as { id: string }).id === "carol" && d.spec.confirmed === true,
      ),
    ).toBe(true);
  });
});

describe("a stage deleted and created again under the same name", () => {
  it("does not continue an execution of the old stage, which stays in the operator's namespace until it expires", async () => {
    await createFlow(f, "fleeting", { useGlobalSettings: true }, [
      { name: "fleeting-enroll", flow: "fleeting", intent: "Setup" },
    ]);
    const old = await f.k.get("emailauthenticatorstages", "fleeting");
    const started = await start("fleeting", { id: "henry", email: "henry@example.com" });
    expect(started.body).toMatchObject({ state: "code_sent" });
    const code = codeIn(await f.mailpit.waitForMessageTo("henry@example.com"));

    await f.k.delete("emailauthenticatorstages", "fleeting");
    await f.k.create("emailauthenticatorstages", "fleeting", { useGlobalSettings: true });
    const renewed = await f.k.waitFor(
      "emailauthenticatorstages",
      "fleeting",
      (o) => o !== undefined && o.metadata.uid !== old?.metadata.uid && readyIs("True")(o),
      "the new stage Ready",
    );
    // The record names the old stage's uid (an owner reference cannot cross namespaces).
    const hex = String(started.body.id).split(".")[1] ?? "";
    const record = await f.admin
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ namespace: OPERATOR_NAMESPACE, name: `eao-x-${hex}` });
    expect(record.metadata?.labels?.[STAGE_UID_LABEL]).toBe(old?.metadata.uid);
    expect(renewed.metadata.uid).not.toBe(old?.metadata.uid);

    // Answered as if the stage were missing: neither the code nor a resend goes on against the new stage.
    for (const body of [{ code }, { resend: true }, { email: "henry@example.com" }]) {
      const refused = await submit(started.body.id, body, started.body.token);
      expect(refused.body, JSON.stringify(body)).toMatchObject({ status: 503, code: "stage_not_ready" });
    }
    expect((await devicesApi(f.admin, f.ns)()).some((d) => (d.spec.user as { id: string }).id === "henry")).toBe(false);
    // A new execution on the new stage works.
    await f.mailpit.deleteAll();
    const again = await start("fleeting", { id: "henry", email: "henry@example.com" });
    const fresh = codeIn(await f.mailpit.waitForMessageTo("henry@example.com"));
    expect((await submit(again.body.id, { code: fresh }, again.body.token)).body).toMatchObject({
      state: "completed",
    });
  });
});

describe("access", () => {
  it("refuses a client without an RBAC grant (403) and one without credentials (401)", async () => {
    const stranger = await f.serviceAccount("stranger");
    const refused = await start("enroll", { id: "dave" }, stranger);
    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: "forbidden", status: 403 });
    expect(
      (await f.call("POST", `/api/v1/namespaces/${f.ns}/flows/enroll/executions`, { user: { id: "dave" } })).status,
    ).toBe(401);
    expect((await start("enroll", { id: "dave" }, "not-a-real-token")).status).toBe(401);
  });

  it("lets only the execution token or the starting application read an execution", async () => {
    const started = await start("enroll", { id: "erin" });
    const id = String(started.body.id);
    expect((await f.call("GET", `/api/v1/executions/${id}`, undefined, f.appToken)).status).toBe(200);
    expect((await f.call("GET", `/api/v1/executions/${id}`, undefined, "eaox_wrong")).status).toBe(404);
    const other = await f.serviceAccount("other-app");
    expect((await f.call("GET", `/api/v1/executions/${id}`, undefined, other)).status).toBe(403);
  });

  it("serves an OpenAPI document built from the request schemas", async () => {
    const doc = await f.call("GET", "/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.body).toMatchObject({
      openapi: "3.0.3",
      paths: { "/api/v1/executions/{id}": { post: { requestBody: { required: true } } } },
    });
    // The request schema in the document is the one that validates: strict, with the same fields.
    const start = JSON.stringify(
      (doc.body.paths as Record<string, unknown>)["/api/v1/namespaces/{namespace}/flows/{flow}/executions"],
    );
    expect(start).toContain('"additionalProperties":false');
    expect(start).toContain('"required":["id"]');
  });
});
