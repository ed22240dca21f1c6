// The Mailer against real SMTP servers (Mailpit) in each TLS mode and with AUTH: what arrives,
// how each failure is reported within the stage timeout, and that pools survive failures.
// A small TCP relay in front of Mailpit can refuse, hang or forward, so the same settings can
// fail and then work; a minimal SMTP server refuses recipients.
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maskAddress } from "../../src/email/address.ts";
import { composeCodeMessage } from "../../src/email/compose.ts";
import { Mailer, SmtpSendError, smtpFingerprint } from "../../src/email/mailer.ts";
import type { SmtpSettings } from "../../src/email/settings.ts";
import { Mailpit } from "../harness/mailpit.ts";
import { createTestPki, type TestPki } from "../harness/pki.ts";
import { freePort } from "../harness/ports.ts";

const PASSWORD = "s3cret-Pa55";
let pki: TestPki;
let plain: Mailpit, starttls: Mailpit, implicit: Mailpit, withAuth: Mailpit;
const servers: Server[] = [];
const sockets = new Set<Socket>();
let relayMode: "refuse" | "silent" | "forward" | "slow" = "refuse";
let relayPort = 0,
  silentPort = 0,
  rejectingPort = 0;
const mailer = new Mailer({ idleMs: 300 });

const settings = (port: number, extra: Partial<SmtpSettings> = {}): SmtpSettings => ({
  source: "Stage",
  host: "127.0.0.1",
  port,
  tlsMode: "None",
  timeoutSeconds: 2,
  fromAddress: "system@authentik.local",
  ...extra,
});

let counter = 0;
/** A fresh recipient and code per send, so messages never get mixed up between tests. */
function message(s: SmtpSettings) {
  counter++;
  const address = `user${counter}@example.com`;
  const name = `User ${counter}`;
  const code = String(100000 + counter * 7919).slice(-6);
  const composed = composeCodeMessage({
    settings: s,
    subject: "authentik Sign-in code",
    to: { address, name },
    values: {
      code,
      expiresInMinutes: 30,
      userName: `user${counter}`,
      friendlyName: "Email",
      maskedEmail: maskAddress(address),
    },
  });
  return { address, name, code, composed };
}

async function expectDelivered(server: Mailpit, s: SmtpSettings, m = mailer) {
  const { address, name, code, composed } = message(s);
  const { messageId } = await m.send(s, composed);
  expect(messageId).toBe(composed.messageId);
  const mail = await server.waitForMessageTo(address);
  expect(mail.Subject).toBe("authentik Sign-in code");
  expect(mail.From.Address).toBe(s.fromAddress);
  expect(mail.To).toEqual([{ Address: address, Name: name }]);
  expect(mail.Text).toContain(code);
  expect(mail.HTML).toContain(code);
  expect(mail.Subject).not.toContain(code);
}

async function sendError(s: SmtpSettings): Promise<SmtpSendError> {
  const { composed, code } = message(s);
  const error = await mailer.send(s, composed).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SmtpSendError);
  const e = error as SmtpSendError;
  expect(e.message).not.toContain(code);
  return e;
}

async function listen(server: Server): Promise<number> {
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  servers.push(server);
  return port;
}

const track = (s: Socket) => {
  sockets.add(s);
  s.on("close", () => sockets.delete(s)).on("error", () => {});
  return s;
};

beforeAll(async () => {
  pki = createTestPki();
  const authFile = join(pki.dir, "smtp-users");
  writeFileSync(
    authFile,
    `mailer:${execFileSync("openssl", ["passwd", "-apr1", PASSWORD], { encoding: "utf8" }).trim()}\n`,
  );
  const tls = { certFile: pki.certFile, keyFile: pki.keyFile };
  [plain, starttls, implicit, withAuth] = await Promise.all([
    Mailpit.start(),
    Mailpit.start({ tls: { mode: "starttls", ...tls } }),
    Mailpit.start({ tls: { mode: "implicit", ...tls } }),
    Mailpit.start({ tls: { mode: "starttls", ...tls }, authFile }),
  ]);
  // Accepts connections and never greets: a relay that hangs.
  silentPort = await listen(createServer((s) => void track(s)));
  relayPort = await listen(
    createServer((client) => {
      track(client);
      if (relayMode === "refuse") return void client.destroy();
      if (relayMode === "silent") return;
      const upstream = track(connect(plain.smtpPort, "127.0.0.1"));
      client.pipe(upstream);
      // "slow": every reply comes 600 ms late, within each per-step timeout but not in total.
      if (relayMode === "forward") upstream.pipe(client);
      else upstream.on("data", (chunk: Buffer) => setTimeout(() => client.writable && client.write(chunk), 600));
    }),
  );
  // Just enough SMTP to refuse every recipient with a permanent error.
  rejectingPort = await listen(
    createServer((s) => {
      track(s).write("220 reject.test ESMTP\r\n");
      s.on("data", (chunk: Buffer) => {
        for (const line of chunk.toString().split("\r\n").filter(Boolean)) {
          const verb = line.slice(0, 4).toUpperCase();
          s.write(
            verb === "EHLO" || verb === "HELO" || verb === "MAIL" || verb === "RSET"
              ? "250 OK\r\n"
              : verb === "RCPT"
                ? "550 5.1.1 no such user\r\n"
                : verb === "QUIT"
                  ? "221 bye\r\n"
                  : "502 no\r\n",
          );
        }
      });
    }),
  );
});

afterAll(async () => {
  mailer.close();
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await Promise.all([plain, starttls, implicit, withAuth].map((m) => m?.stop()));
  if (pki) rmSync(pki.dir, { recursive: true, force: true });
});

describe("Mailer.send delivers", () => {
  it("over plain SMTP, with the subject, addresses and the code in both parts", async () => {
    await expectDelivered(plain, settings(plain.smtpPort));
  });

  it("with required STARTTLS and with implicit TLS, verifying the relay against a private CA", async () => {
    await expectDelivered(starttls, settings(starttls.smtpPort, { tlsMode: "STARTTLS", ca: pki.caPem }));
    await expectDelivered(implicit, settings(implicit.smtpPort, { tlsMode: "ImplicitTLS", ca: pki.caPem }));
  });

  it("after authenticating", async () => {
    await expectDelivered(
      withAuth,
      settings(withAuth.smtpPort, { tlsMode: "STARTTLS", ca: pki.caPem, auth: { user: "mailer", pass: PASSWORD } }),
    );
  });

  it("in German, with a subject and a name outside ASCII, and the headers that stop auto-replies", async () => {
    const s = settings(plain.smtpPort);
    const address = "jurgen@example.com";
    const composed = composeCodeMessage({
      settings: s,
      subject: "Ihr Anmeldecode für Müller & Söhne",
      to: { address, name: "Jürgen Müller" },
      locale: "de",
      values: {
        code: "480213",
        expiresInMinutes: 15,
        userName: "Jürgen",
        friendlyName: "E-Mail",
        maskedEmail: maskAddress(address),
      },
    });
    await mailer.send(s, composed);
    const mail = await plain.waitForMessageTo(address);
    expect(mail.Subject).toBe("Ihr Anmeldecode für Müller & Söhne");
    expect(mail.To).toEqual([{ Address: address, Name: "Jürgen Müller" }]);
    expect(mail.Text).toContain("Hallo Jürgen,");
    expect(mail.Text).toContain("480213");
    expect(mail.Text).toContain("15 Minuten");
    expect(mail.HTML).toContain('<html lang="de">');
    expect(mail.HTML).toContain("480213");
    const headers = await plain.headers(mail.ID);
    expect(headers["Auto-Submitted"]).toEqual(["auto-generated"]);
    expect(headers["X-Auto-Response-Suppress"]).toEqual(["All"]);
    expect(headers["Message-Id"] ?? headers["Message-ID"]).toEqual([composed.messageId]);
  });

  it("several messages at once over one pool", async () => {
    const s = settings(plain.smtpPort);
    await Promise.all(Array.from({ length: 6 }, () => expectDelivered(plain, s)));
    expect(mailer.openPools.filter((f) => f === smtpFingerprint(s))).toHaveLength(1);
  });
});

describe("Mailer.send fails with a reason", () => {
  it("AuthFailed without echoing the password, and nothing is sent", async () => {
    const s = settings(withAuth.smtpPort, {
      tlsMode: "STARTTLS",
      ca: pki.caPem,
      auth: { user: "mailer", pass: "wrong-Pa55word" },
    });
    const before = (await withAuth.messages()).length;
    const e = await sendError(s);
    expect(await withAuth.messages()).toHaveLength(before);
    expect(e.reason).toBe("AuthFailed");
    expect(e.message).not.toContain("wrong-Pa55word");
    expect(mailer.openPools).not.toContain(smtpFingerprint(s));
  });

  it("TLSFailed when STARTTLS is required but not offered, and nothing is delivered in the clear", async () => {
    const before = (await plain.messages()).length;
    const e = await sendError(settings(plain.smtpPort, { tlsMode: "STARTTLS" }));
    expect(e.reason).toBe("TLSFailed");
    await new Promise((r) => setTimeout(r, 500));
    expect(await plain.messages()).toHaveLength(before);
  });

  it("TLSFailed for a relay certificate from an unknown CA", async () => {
    expect((await sendError(settings(implicit.smtpPort, { tlsMode: "ImplicitTLS" }))).reason).toBe("TLSFailed");
  });

  it("ConnectionFailed quickly for a closed port", async () => {
    const started = Date.now();
    expect((await sendError(settings(await freePort(), { timeoutSeconds: 10 }))).reason).toBe("ConnectionFailed");
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("Timeout within the stage timeout for a relay that never answers", async () => {
    const started = Date.now();
    const e = await sendError(settings(silentPort, { timeoutSeconds: 1 }));
    expect(e.reason).toBe("Timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(1800);
  });

  it("Rejected when the relay refuses the recipient, keeping the pool", async () => {
    const s = settings(rejectingPort);
    const e = await sendError(s);
    expect(e.reason).toBe("Rejected");
    expect(e.message).toMatch(/550/);
    expect(mailer.openPools).toContain(smtpFingerprint(s));
  });
});

describe("Mailer pools", () => {
  it("work again with the same settings after each kind of failure", async () => {
    const s = settings(relayPort, { timeoutSeconds: 1 });
    relayMode = "refuse";
    expect((await sendError(s)).reason).toBe("ConnectionFailed");
    relayMode = "silent";
    expect((await sendError(s)).reason).toBe("Timeout");
    relayMode = "forward";
    await expectDelivered(plain, s);
  });

  it("stop a delivery that outlives the stage timeout, so a send reported as failed never arrives later", async () => {
    const s = settings(relayPort, { timeoutSeconds: 1 });
    relayMode = "slow";
    // Its own mailer: the shared one may hold a fast connection through the relay already.
    const own = new Mailer();
    const slow = message(s);
    const started = Date.now();
    await expect(own.send(s, slow.composed)).rejects.toMatchObject({ reason: "Timeout" });
    own.close();
    expect(Date.now() - started).toBeLessThan(1800);
    relayMode = "forward";
    // Unstopped, the six slow round trips would complete after about 3.6 s.
    await new Promise((r) => setTimeout(r, 4500));
    expect((await plain.messages()).some((m) => m.To.some((t) => t.Address === slow.address))).toBe(false);
  });

  it("are created lazily, keyed by a hash that includes the credentials, and closed when idle or forgotten", async () => {
    const own = new Mailer({ idleMs: 200 });
    const a = settings(withAuth.smtpPort, {
      tlsMode: "STARTTLS",
      ca: pki.caPem,
      auth: { user: "mailer", pass: PASSWORD },
    });
    expect(own.openPools).toEqual([]);
    await expectDelivered(withAuth, a, own);
    expect(own.openPools).toEqual([smtpFingerprint(a)]);
    expect(smtpFingerprint(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(smtpFingerprint({ ...a, auth: { user: "mailer", pass: "rotated" } })).not.toBe(smtpFingerprint(a));
    expect(smtpFingerprint({ ...a, fromAddress: "other@example.com", source: "Global" })).toBe(smtpFingerprint(a));
    await new Promise((r) => setTimeout(r, 400));
    expect(own.openPools).toEqual([]);
    await expectDelivered(plain, settings(plain.smtpPort), own);
    own.forget(smtpFingerprint(settings(plain.smtpPort)));
    expect(own.openPools).toEqual([]);
    own.close();
    await expect(own.send(a, message(a).composed)).rejects.toMatchObject({ reason: "ConnectionFailed" });
  });
});
