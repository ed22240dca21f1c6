// The hosted pages in a real browser (Debian chromium via playwright-core), served by the page
// router over an in-memory backend: every page passes axe-core, a whole flow completes with the
// keyboard only, the countdown and paste work, the launch link is one-time, forms without their
// CSRF token are refused, and the CSP holds (no inline script, no violations). Screenshots of
// each page at desktop and phone width go to docs/screenshots/ (shown in the README).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import pino from "pino";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LAUNCH_TOKEN_PREFIX, newSecret } from "../../src/hand-off/launch.ts";
import { parseBranding } from "../../src/pages/branding.ts";
import { launchPath, pagePath, pagesRouter } from "../../src/pages/router.ts";
import {
  axeViolations,
  type Browser,
  describeViolations,
  launchBrowser,
  screenshots,
  watchConsole,
} from "../harness/browser.ts";
import { MemoryPageBackend } from "../harness/pages-memory-backend.ts";

let server: Server;
let base: string;
let browser: Browser;
const backend = new MemoryPageBackend();
let n = 0;

const branding = parseBranding({
  productName: "Example Shop",
  accentColor: "#0f5132",
  footerLinks: "- text: Privacy\n  url: https://example.com/privacy\n- text: Help\n  url: https://example.com/help\n",
});
if (!branding.ok) throw new Error(branding.errors.join("; "));

beforeAll(async () => {
  const app = express();
  app.use(pagesRouter({ backend, clock: backend.clock, secure: false, log: pino({ level: "silent" }) }));
  app.get("/app/callback", (_req, res) => {
    res
      .type("html")
      .send('<!doctype html><html lang="en"><title>App</title><main><h1>Back in the app</h1></main></html>');
  });
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((r) => server?.close(() => r()));
});

/** A new execution and the launch URL for it. */
function start(extra: Parameters<MemoryPageBackend["add"]>[0] extends infer T ? Partial<T> : never = {}) {
  const id = `default.${(++n).toString(16).padStart(32, "0")}`;
  const launchToken = newSecret(LAUNCH_TOKEN_PREFIX);
  const e = backend.add({
    id,
    launchToken,
    returnTo: `${base}/app/callback`,
    title: "Example sign-in",
    branding: branding.ok ? branding.branding : undefined,
    ...extra,
  });
  return { id, e, url: `${base}${launchPath(id, launchToken)}` };
}

async function expectAccessible(page: Page): Promise<void> {
  const violations = await axeViolations(page);
  expect(violations, describeViolations(violations)).toEqual([]);
}

async function focusedId(page: Page): Promise<string> {
  return page.evaluate<string>(`document.activeElement?.id ?? ""`);
}

describe("hosted pages in Chromium", () => {
  it("complete email → code → application with the keyboard only; every page passes axe", async () => {
    const page = await browser.newPage();
    const errors = watchConsole(page);
    const { id, url } = start();
    const response = await page.goto(url);
    // The launch token left the address bar; the session cookie is HttpOnly and Lax.
    expect(page.url()).toBe(`${base}${pagePath(id)}`);
    expect(response?.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(response?.headers()["referrer-policy"]).toBe("no-referrer");
    expect(response?.headers()["cache-control"]).toBe("no-store");
    const cookie = (await browser.context.cookies(`${base}${pagePath(id)}`)).find((c) => c.name === "eao_session");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", path: pagePath(id) });
    expect(await page.locator("script:not([src])").count()).toBe(0);

    await expect.poll(() => page.title()).toBe("Enter your email address – Example sign-in");
    expect(await focusedId(page)).toBe("email");
    await expectAccessible(page);
    await screenshots(page, "email");

    // An address the browser accepts and the server does not: the message sits next to the field.
    await page.keyboard.type("alice@localhost");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#email-error");
    expect(await page.textContent("#email-error")).toBe("Enter a valid email address, like name@example.com.");
    expect(await page.getAttribute("#email", "aria-invalid")).toBe("true");
    expect(await page.inputValue("#email")).toBe("alice@localhost");
    expect(await focusedId(page)).toBe("email");
    await expectAccessible(page);
    await screenshots(page, "email-error");

    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.type("alice@example.com");
    await page.keyboard.press("Tab");
    expect(await page.evaluate<string>(`document.activeElement?.textContent?.trim()`)).toBe("Send code");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#code");
    expect(await focusedId(page)).toBe("code");
    expect(await page.getAttribute("#code", "autocomplete")).toBe("one-time-code");
    expect(await page.getAttribute("#code", "inputmode")).toBe("numeric");
    expect(await page.textContent(".intro")).toContain("a***@example.com");
    expect(await page.isDisabled("#resend-button")).toBe(true);
    expect(await page.textContent("#resend-status")).toMatch(/You can ask for a new code in (29|30) s\./);
    await expectAccessible(page);
    await screenshots(page, "code");

    await page.keyboard.type("000000");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#code-error");
    expect(await page.textContent("#code-error")).toBe("That code is not correct. You can try 2 more times.");
    expect(await page.getAttribute("#code", "aria-describedby")).toContain("code-error");
    await expectAccessible(page);
    await screenshots(page, "code-error");

    // Digits with a space, as people copy them from a mail: the script keeps the digits.
    await page.keyboard.type("123 456");
    expect(await page.inputValue("#code")).toBe("123456");
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/app\/callback/);
    const back = new URL(page.url());
    expect(back.pathname).toBe("/app/callback");
    expect(back.searchParams.get("result")).toBe("header.payload.signature");
    // The 400 answers to the wrong address and code are expected; nothing else may fail.
    expect(errors.filter((e) => !e.includes("status of 400 (Bad Request)"))).toEqual([]);
    await page.close();
  });

  it("count the resend cooldown down in the browser and then allow a new code", async () => {
    const page = await browser.newPage();
    const { e, url } = start({ state: "code_sent", address: "bob@example.com", cooldownSeconds: 3 });
    e.lastSentAt = backend.now;
    await page.goto(url);
    expect(await page.isDisabled("#resend-button")).toBe(true);
    const first = await page.textContent("#resend-status");
    expect(first).toMatch(/in [23] s\./);
    await page.locator("#resend-button:enabled").waitFor({ timeout: 6000 });
    expect(await page.textContent("#resend-status")).toBe("Did not get the email? You can ask for a new code.");
    expect(await page.textContent("#resend-live")).toBe("Did not get the email? You can ask for a new code.");
    // The server agrees once its clock has moved on too.
    backend.now += 4000;
    await page.focus("#resend-button");
    await page.keyboard.press("Enter");
    await page.waitForSelector(".notice");
    expect(await page.textContent(".notice")).toBe("A new code is on its way. The previous one no longer works.");
    await expectAccessible(page);
    await page.close();
  });

  it("submit a whole pasted code at once", async () => {
    const page = await browser.newPage();
    const { e, url } = start({ state: "code_sent", address: "carol@example.com" });
    e.lastSentAt = backend.now;
    await page.goto(url);
    await page.focus("#code");
    await Promise.all([
      page.waitForURL(/\/app\/callback/),
      page.evaluate(`(() => {
        const data = new DataTransfer();
        data.setData("text/plain", " 123-456 ");
        const paste = new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true });
        document.getElementById("code").dispatchEvent(paste);
      })()`),
    ]);
    expect(e.state).toBe("completed");
    await page.close();
  });

  it("refuse a replayed launch link, a post without its CSRF token and a cross-origin post", async () => {
    const page = await browser.newPage();
    const { id, e, url } = start({ state: "code_sent", address: "dave@example.com" });
    e.lastSentAt = backend.now;
    await page.goto(url);
    const replay = await page.goto(url);
    expect(replay?.status()).toBe(400);
    expect(await page.textContent("h2")).toBe("This link cannot be used");
    await expectAccessible(page);
    await screenshots(page, "invalid-link");

    // The browser's cookie goes along (same context), but not the token.
    const noToken = await browser.context.request.post(`${base}${pagePath(id)}code`, {
      form: { code: "123456" },
      maxRedirects: 0,
    });
    expect(noToken.status()).toBe(403);
    expect(await noToken.text()).toContain("The form has expired. Please try again.");
    const wrongToken = await browser.context.request.post(`${base}${pagePath(id)}code`, {
      form: { code: "123456", csrf: "A".repeat(43) },
      maxRedirects: 0,
    });
    expect(wrongToken.status()).toBe(403);

    await page.goto(`${base}${pagePath(id)}`);
    const csrf = await page.getAttribute("#code-form input[name=csrf]", "value");
    const crossOrigin = await browser.context.request.post(`${base}${pagePath(id)}code`, {
      form: { code: "123456", csrf: csrf ?? "" },
      headers: { Origin: "https://evil.example.com", "Sec-Fetch-Site": "cross-site" },
      maxRedirects: 0,
    });
    expect(crossOrigin.status()).toBe(403);
    expect(e.state).toBe("code_sent");

    const genuine = await browser.context.request.post(`${base}${pagePath(id)}code`, {
      form: { code: "123456", csrf: csrf ?? "" },
      headers: { Origin: "null", "Sec-Fetch-Site": "same-origin" },
      maxRedirects: 0,
    });
    expect(genuine.status()).toBe(303);
    expect(e.state).toBe("completed");
    await page.close();
  });

  it("show completed, denied and expired pages, accessible, in German when asked", async () => {
    const page = await browser.newPage();
    const completed = start({ state: "code_sent", address: "erin@example.com", returnTo: undefined });
    completed.e.lastSentAt = backend.now;
    await page.goto(completed.url);
    await page.fill("#code", "123456");
    await page.press("#code", "Enter");
    await page.waitForSelector("text=You can close this window now.");
    await expectAccessible(page);
    await screenshots(page, "completed");

    const denied = start({ state: "denied", denial: "no_device" });
    await page.goto(denied.url);
    expect(await page.textContent("h2")).toBe("This cannot continue");
    expect(await page.getAttribute("a.button", "href")).toBe(`${base}/app/callback?error=access_denied`);
    await expectAccessible(page);
    await screenshots(page, "denied");

    const expired = start({ expiresAt: backend.now + 1000 });
    await page.goto(expired.url);
    backend.now += 2000;
    const r = await page.reload();
    expect(r?.status()).toBe(410);
    expect(await page.textContent("h2")).toBe("This sign-in has expired");
    await expectAccessible(page);
    await screenshots(page, "expired");

    // The context's locale sets Accept-Language below extra headers, so rewrite it per request.
    await page.route("**/*", (route) =>
      route.continue({ headers: { ...route.request().headers(), "accept-language": "fr-CH, de;q=0.8, en;q=0.5" } }),
    );
    const german = start();
    await page.goto(german.url);
    expect(await page.getAttribute("html", "lang")).toBe("de");
    expect(await page.textContent("h2")).toBe("E-Mail-Adresse eingeben");
    await expectAccessible(page);
    await screenshots(page, "email-de");
    await page.close();
  });
});
