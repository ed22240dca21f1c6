// The connection check against a real SMTP server (Mailpit) in each TLS mode and with AUTH:
// what works is Verified, and each way of failing gets its own reason, within the timeout.
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkConnection } from "../../src/email/transport.ts";
import type { SmtpSettings } from "../../src/email/settings.ts";
import { Mailpit } from "../harness/mailpit.ts";
import { createTestPki, type TestPki } from "../harness/pki.ts";
import { freePort } from "../harness/ports.ts";

let pki: TestPki;
const servers: Mailpit[] = [];
let plain: Mailpit, starttls: Mailpit, implicit: Mailpit, withAuth: Mailpit;
let silent: Server;
let silentPort = 0;

const base = (port: number, extra: Partial<SmtpSettings> = {}): SmtpSettings => ({
  source: "Stage",
  host: "127.0.0.1",
  port,
  tlsMode: "None",
  timeoutSeconds: 2,
  fromAddress: "a@example.com",
  ...extra,
});

beforeAll(async () => {
  pki = createTestPki();
  const authFile = join(pki.dir, "smtp-users");
  writeFileSync(
    authFile,
    `mailer:${execFileSync("openssl", ["passwd", "-apr1", "s3cret"], { encoding: "utf8" }).trim()}\n`,
  );
  [plain, starttls, implicit, withAuth] = await Promise.all([
    Mailpit.start(),
    Mailpit.start({ tls: { mode: "starttls", certFile: pki.certFile, keyFile: pki.keyFile } }),
    Mailpit.start({ tls: { mode: "implicit", certFile: pki.certFile, keyFile: pki.keyFile } }),
    Mailpit.start({ tls: { mode: "starttls", certFile: pki.certFile, keyFile: pki.keyFile }, authFile }),
  ]);
  servers.push(plain, starttls, implicit, withAuth);
  // Accepts connections and never greets: a relay that hangs.
  silent = createServer(() => {});
  silentPort = await freePort();
  await new Promise<void>((r) => silent.listen(silentPort, "127.0.0.1", r));
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  silent?.close();
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

describe("checkConnection", () => {
  it("verifies plain SMTP, STARTTLS and implicit TLS against a private CA", async () => {
    expect(await checkConnection(base(plain.smtpPort))).toMatchObject({ ok: true, reason: "Verified" });
    const viaStarttls = await checkConnection(base(starttls.smtpPort, { tlsMode: "STARTTLS", ca: pki.caPem }));
    expect(viaStarttls.ok).toBe(true);
    expect(viaStarttls.message).toMatch(/with STARTTLS/);
    const viaImplicit = await checkConnection(base(implicit.smtpPort, { tlsMode: "ImplicitTLS", ca: pki.caPem }));
    expect(viaImplicit.ok).toBe(true);
    expect(viaImplicit.message).toMatch(/with implicit TLS/);
  });

  it("authenticates with the right password and reports AuthFailed without echoing a wrong one", async () => {
    const ok = await checkConnection(
      base(withAuth.smtpPort, { tlsMode: "STARTTLS", ca: pki.caPem, auth: { user: "mailer", pass: "s3cret" } }),
    );
    expect(ok.ok).toBe(true);
    expect(ok.message).toMatch(/and authenticated/);
    const bad = await checkConnection(
      base(withAuth.smtpPort, { tlsMode: "STARTTLS", ca: pki.caPem, auth: { user: "mailer", pass: "wrong-pass-42" } }),
    );
    expect(bad).toMatchObject({ ok: false, reason: "AuthFailed" });
    expect(bad.message).not.toContain("wrong-pass-42");
  });

  it("refuses an unknown CA instead of skipping verification", async () => {
    const r = await checkConnection(base(starttls.smtpPort, { tlsMode: "STARTTLS" }));
    expect(r).toMatchObject({ ok: false, reason: "TLSFailed" });
  });

  it("fails when STARTTLS is required but not offered, instead of sending in the clear", async () => {
    const r = await checkConnection(base(plain.smtpPort, { tlsMode: "STARTTLS" }));
    expect(r).toMatchObject({ ok: false, reason: "TLSFailed" });
  });

  it("reports a closed port and a silent relay within the stage timeout", async () => {
    expect(await checkConnection(base(await freePort()))).toMatchObject({ ok: false, reason: "ConnectionFailed" });
    const started = Date.now();
    expect(await checkConnection(base(silentPort, { timeoutSeconds: 1 }))).toMatchObject({
      ok: false,
      reason: "Timeout",
    });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
