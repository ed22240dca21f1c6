// The hosted pages end to end in Chromium: the operator (informers, execution service, HTTP API
// and pages) against the real API server and a real Mailpit, an application that starts flows
// over the JSON API and receives the signed result at its returnTo. The code is read from
// Mailpit; the result is verified against the operator's JWKS as an application would.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { CoreV1Api } from "@kubernetes/client-node";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_ISSUER } from "../../src/operator/hosted-pages.ts";
import type { JwksDocument } from "../../src/signing/jwks.ts";
import { RESULT_TTL_SECONDS, verifyResult } from "../../src/signing/result-token.ts";
import { codeIn, startApiFixture, type ApiFixture } from "../harness/api-fixture.ts";
import { axeViolations, type Browser, describeViolations, launchBrowser } from "../harness/browser.ts";
import { readyIs } from "../harness/objects.ts";
import { freePort } from "../harness/ports.ts";
import { type DemoApp, startDemoApp } from "../dev/demo-app.ts";

let f: ApiFixture;
let browser: Browser;
let app: Server;
let appUrl: string;
let audience: string;
let demo: DemoApp;

beforeAll(async () => {
  app = createServer((_req, res) => {
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end('<!doctype html><html lang="en"><title>Demo</title><main><h1>Back in the application</h1></main></html>');
  });
  await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;

  f = await startApiFixture("pages");
  audience = `system:serviceaccount:${f.ns}:app`;
  demo = await startDemoApp({
    operatorUrl: f.url ?? "",
    appToken: f.appToken,
    appUsername: audience,
    namespace: f.ns,
    port: await freePort(),
    flows: { signIn: "login", enroll: "enroll" },
  });
  await f.admin.makeApiClient(CoreV1Api).createNamespacedConfigMap({
    namespace: f.ns,
    body: {
      metadata: { name: "brand" },
      data: {
        productName: "Demo Shop",
        accentColor: "#0f5132",
        footerLinks: "- text: Help\n  url: https://example.com/help\n",
      },
    },
  });
  await f.k.create("emailauthenticatorstages", "email", {
    useGlobalSettings: true,
    subject: "Your sign-in code",
    friendlyName: "Demo sign-in",
    limits: { attemptsPerCode: 2, sendsPerAddressPerHour: 50 },
  });
  const pages = { allowedReturnTo: [`${appUrl}/callback`, `${demo.url}/callback`], brandingRef: { name: "brand" } };
  await f.k.create("flowbindings", "enroll", { flow: "enroll", intent: "Setup", stageRef: { name: "email" }, pages });
  await f.k.create("flowbindings", "login", {
    flow: "login",
    intent: "Authenticate",
    stageRef: { name: "email" },
    pages,
  });
  for (const b of ["enroll", "login"]) await f.k.waitFor("flowbindings", b, readyIs("True"), "flow ready");
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
  await f?.stop();
  await new Promise<void>((r) => app?.close(() => r()));
});

const start = (flow: string, body: Record<string, unknown>) =>
  f.call("POST", `/api/v1/namespaces/${f.ns}/flows/${flow}/executions`, body, f.appToken);

async function jwks(): Promise<JwksDocument> {
  const res = await fetch(`${f.url}/.well-known/jwks.json`);
  expect(res.headers.get("content-type")).toContain("application/jwk-set+json");
  return (await res.json()) as JwksDocument;
}

async function expectAccessible(page: Page): Promise<void> {
  const violations = await axeViolations(page);
  expect(violations, describeViolations(violations)).toEqual([]);
}

/** Reads the newest code mailed to `address` from Mailpit and clears the inbox. */
async function codeFor(address: string): Promise<string> {
  const code = codeIn(await f.mailpit.waitForMessageTo(address));
  await f.mailpit.deleteAll();
  return code;
}

describe("hosted pages against the operator", () => {
  let device = "";

  it("Setup: the user gives an address, types the mailed code, and the application gets a verifiable result", async () => {
    const started = await start("enroll", {
      user: { id: "alice", name: "Alice" },
      returnTo: `${appUrl}/callback?from=test`,
      state: "opaque-123",
    });
    expect(started.status).toBe(201);
    const pageUrl = String(started.body.pageUrl);
    expect(pageUrl).toMatch(/^\/pages\/launch\/.+\?token=eaol_/);

    const page = await browser.newPage();
    await page.goto(`${f.url}${pageUrl}`);
    expect(page.url()).toBe(`${f.url}/pages/x/${String(started.body.id)}/`);
    expect(await page.title()).toBe("Enter your email address – Demo sign-in");
    expect(await page.textContent(".product")).toBe("Demo Shop");
    await expectAccessible(page);

    await page.keyboard.type("alice@example.com");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#code");
    expect(await page.textContent(".intro")).toContain("a****@e******.com");
    await expectAccessible(page);
    await page.keyboard.type(await codeFor("alice@example.com"));
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/callback/);

    const back = new URL(page.url());
    expect(back.searchParams.get("from")).toBe("test");
    const jws = back.searchParams.get("result") ?? "";
    const keys = await jwks();
    const verified = await verifyResult(jws, { jwks: keys, issuer: DEFAULT_ISSUER, audience, now: f.clock.now() });
    if (!verified.ok) throw new Error(verified.reason);
    expect(verified.claims).toMatchObject({
      iss: DEFAULT_ISSUER,
      aud: audience,
      sub: "alice",
      namespace: f.ns,
      flow: "enroll",
      stage: "email",
      execution: started.body.id,
      jti: started.body.id,
      state: "opaque-123",
      amr: ["otp", "mca"],
    });
    expect(verified.claims.exp - verified.claims.iat).toBe(RESULT_TTL_SECONDS);
    device = verified.claims.device;
    expect(device).toMatch(/^email-/);

    // The JSON API's completed result carries the same token.
    const api = await f.call("GET", `/api/v1/executions/${String(started.body.id)}`, undefined, f.appToken);
    expect(api.body).toMatchObject({ state: "completed", result: { user: "alice", device, jws } });

    // Tampered or expired, it fails.
    const [h, p, s] = jws.split(".") as [string, string, string];
    const forged = Buffer.from(
      JSON.stringify({ ...(JSON.parse(Buffer.from(p, "base64url").toString()) as object), sub: "mallory" }),
    ).toString("base64url");
    const check = (t: string, now = f.clock.now()) =>
      verifyResult(t, { jwks: keys, issuer: DEFAULT_ISSUER, audience, now });
    expect((await check(`${h}.${forged}.${s}`)).ok).toBe(false);
    expect((await check(jws, new Date(f.clock.now().getTime() + (RESULT_TTL_SECONDS + 10) * 1000))).ok).toBe(false);
    await page.close();
  });

  it("Authenticate: the code goes to the saved device; completed with the keyboard only", async () => {
    const started = await start("login", { user: { id: "alice" }, returnTo: `${appUrl}/callback` });
    expect(started.body).toMatchObject({ state: "code_sent" });
    const page = await browser.newPage();
    await page.goto(`${f.url}${String(started.body.pageUrl)}`);
    expect(await page.evaluate<string>(`document.activeElement?.id ?? ""`)).toBe("code");
    await page.keyboard.type(await codeFor("alice@example.com"));
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/callback/);
    const jws = new URL(page.url()).searchParams.get("result") ?? "";
    const verified = await verifyResult(jws, {
      jwks: await jwks(),
      issuer: DEFAULT_ISSUER,
      audience,
      now: f.clock.now(),
    });
    expect(verified).toMatchObject({ ok: true, claims: { sub: "alice", flow: "login", device } });
    await page.close();
  });

  it("wrong codes say how many tries are left, then that the code is used up", async () => {
    const started = await start("login", { user: { id: "alice" } });
    const page = await browser.newPage();
    await page.goto(`${f.url}${String(started.body.pageUrl)}`);
    const code = await codeFor("alice@example.com");
    const wrong = code === "000000" ? "111111" : "000000";
    await page.fill("#code", wrong);
    await page.press("#code", "Enter");
    await page.waitForSelector("#code-error");
    expect(await page.textContent("#code-error")).toBe("That code is not correct. You can try 1 more time.");
    await expectAccessible(page);
    await page.fill("#code", wrong);
    await page.press("#code", "Enter");
    await page.waitForSelector("#code-error");
    await page.fill("#code", code);
    await page.press("#code", "Enter");
    await page.waitForSelector("#code-error");
    expect(await page.textContent("#code-error")).toMatch(/Ask for a new code\.$/);
    await page.close();
  });

  it("counts the resend cooldown down and then sends a new code", async () => {
    const started = await start("login", { user: { id: "alice" } });
    await codeFor("alice@example.com");
    const page = await browser.newPage();
    await page.goto(`${f.url}${String(started.body.pageUrl)}`);
    expect(await page.isDisabled("#resend-button")).toBe(true);
    expect(await page.textContent("#resend-status")).toMatch(/in (5[5-9]|60) s\./);
    // A post while the cooldown runs (the button is disabled; send the form anyway).
    await page.evaluate(`document.getElementById("resend-button").disabled = false`);
    await page.click("#resend-button");
    await page.waitForSelector("#resend-error");
    expect(await page.textContent("#resend-error")).toMatch(/You can ask for a new one in \d+ s\./);
    f.clock.advance(61_000);
    await page.goto(`${f.url}/pages/x/${String(started.body.id)}/`);
    expect(await page.isDisabled("#resend-button")).toBe(false);
    await page.click("#resend-button");
    await page.waitForSelector(".notice");
    const fresh = await codeFor("alice@example.com");
    await page.fill("#code", fresh);
    await page.press("#code", "Enter");
    await page.waitForSelector("text=You can close this window now.");
    await page.close();
  });

  it("the dev stack's demo application signs a user in and shows the verified claims", async () => {
    const page = await browser.newPage();
    await page.goto(demo.url);
    await page.fill("#user", "alice");
    await page.selectOption("#flow", "login");
    await page.click("button[type=submit]");
    await page.waitForSelector("#code");
    await page.fill("#code", await codeFor("alice@example.com"));
    await page.press("#code", "Enter");
    await page.waitForURL(new RegExp(`^${demo.url}/callback`));
    expect(await page.textContent("h1")).toBe("Signed in as alice");
    expect(await page.textContent("main")).toContain("Its state matches the one this app sent.");
    expect(await page.textContent("main")).toContain('"login"');
    await page.close();
  });

  it("speaks the user's language from user.locale: pages and the mail", async () => {
    const started = await start("login", { user: { id: "alice", locale: "de-CH" } });
    const mail = await f.mailpit.waitForMessageTo("alice@example.com");
    expect(mail.Text).toContain("Ihr E-Mail-Code:");
    await f.mailpit.deleteAll();
    const page = await browser.newPage();
    await page.goto(`${f.url}${String(started.body.pageUrl)}`);
    expect(await page.getAttribute("html", "lang")).toBe("de");
    expect(await page.textContent("h2")).toBe("Code eingeben");
    await expectAccessible(page);
    await page.close();
  });

  it("refuses a returnTo outside the allow-list at start", async () => {
    for (const returnTo of [
      "https://evil.example.com/callback",
      `${appUrl}/callback/../admin`,
      `${appUrl}/other`,
      `${appUrl.replace("127.0.0.1", "localhost")}/callback`,
    ]) {
      const r = await start("login", { user: { id: "alice" }, returnTo });
      expect(r.status, returnTo).toBe(400);
      expect(r.body).toMatchObject({ code: "invalid_request" });
      expect(String(r.body.detail)).toContain("returnTo");
    }
    await f.mailpit.deleteAll();
  });

  it("refuses a replayed launch link and a form posted without its CSRF token", async () => {
    const started = await start("login", { user: { id: "alice" } });
    await codeFor("alice@example.com");
    const page = await browser.newPage();
    const launch = `${f.url}${String(started.body.pageUrl)}`;
    await page.goto(launch);
    const replay = await page.goto(launch);
    expect(replay?.status()).toBe(400);
    expect(await page.textContent("h2")).toBe("This link cannot be used");
    await expectAccessible(page);
    // Another browser profile cannot use the link either once it was opened.
    const other = await launchBrowser();
    const otherPage = await other.newPage();
    expect((await otherPage.goto(launch))?.status()).toBe(400);
    await other.close();

    const post = await browser.context.request.post(`${f.url}/pages/x/${String(started.body.id)}/code`, {
      form: { code: "123456" },
      maxRedirects: 0,
    });
    expect(post.status()).toBe(403);
    const state = await f.call("GET", `/api/v1/executions/${String(started.body.id)}`, undefined, f.appToken);
    expect(state.body).toMatchObject({ state: "code_sent" });
    await page.close();
  });

  it("shows the expired page once the execution has expired", async () => {
    const started = await start("login", { user: { id: "alice" } });
    await codeFor("alice@example.com");
    const page = await browser.newPage();
    await page.goto(`${f.url}${String(started.body.pageUrl)}`);
    f.clock.advance(Date.parse(String(started.body.expiresAt)) - f.clock.now().getTime() + 1000);
    const r = await page.reload();
    expect(r?.status()).toBe(410);
    expect(await page.textContent("h2")).toBe("This sign-in has expired");
    await expectAccessible(page);
    await page.close();
  });
});
