import { createTransport } from "nodemailer";
import { describe, expect, it } from "vitest";
import { composeCodeMessage, type CodeMessageInput } from "./compose.ts";
import type { SmtpSettings } from "./settings.ts";
import { TemplateError } from "./template.ts";

const settings: SmtpSettings = {
  source: "Stage",
  host: "localhost",
  port: 25,
  tlsMode: "None",
  timeoutSeconds: 10,
  fromAddress: "system@authentik.local",
};
const CODE = "048213";

const input = (extra: Partial<CodeMessageInput> = {}): CodeMessageInput => ({
  settings,
  subject: "authentik Sign-in code",
  to: { address: "eve@example.com", name: "Eve Example" },
  values: { code: CODE, expiresInMinutes: 30, userName: "eve", friendlyName: "Email", maskedEmail: "e**@e******.com" },
  ...extra,
});

/** The message as it goes over the wire, split into the top-level header block and the rest. */
async function wire(
  message: ReturnType<typeof composeCodeMessage>,
): Promise<{ headers: string; body: string; raw: string }> {
  const info = await createTransport({ streamTransport: true, buffer: true }).sendMail(message);
  const raw = (info.message as Buffer).toString("utf8");
  const end = raw.indexOf("\r\n\r\n");
  return { headers: raw.slice(0, end), body: raw.slice(end), raw };
}

/** MIME parts of a multipart/alternative body, by content type. */
function parts(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const chunk of body.split(/\r\n--[^\r\n]+/)) {
    const type = /Content-Type: ([a-z]+\/[a-z]+)/i.exec(chunk)?.[1];
    if (type) out[type] = chunk.replace(/=\r\n/g, "");
  }
  return out;
}

describe("composeCodeMessage", () => {
  it("puts the code in both bodies and nowhere in the subject or headers", async () => {
    const message = composeCodeMessage(input());
    expect(message.subject).toBe("authentik Sign-in code");
    expect(message.text).toContain(CODE);
    expect(message.html).toContain(CODE);
    const { headers, body } = await wire(message);
    expect(headers).not.toContain(CODE);
    expect(headers).toMatch(/^Subject: authentik Sign-in code$/m);
    const byType = parts(body);
    expect(byType["text/plain"]).toContain(CODE);
    expect(byType["text/html"]).toContain(CODE);
  });

  it("renders the built-in templates like authentik's", () => {
    const { text, html } = composeCodeMessage(input());
    for (const body of [text, html]) {
      expect(body).toContain("Hi eve,");
      expect(body).toContain("Email MFA code");
      expect(body).toContain(
        "If you did not request this code, please ignore this email. The code above is valid for 30 minutes.",
      );
    }
    expect(html).not.toMatch(/src=|href=|url\(/i);
  });

  it("addresses exactly the given recipient, from the settings' address, with an explicit envelope", async () => {
    const message = composeCodeMessage(input());
    expect(message.to).toEqual({ name: "Eve Example", address: "eve@example.com" });
    expect(message.from).toEqual({ name: "", address: "system@authentik.local" });
    expect(message.envelope).toEqual({ from: "system@authentik.local", to: ["eve@example.com"] });
    const { headers } = await wire(message);
    expect(headers).toMatch(/^To: Eve Example <eve@example\.com>$/m);
    expect(headers).toMatch(/^From: system@authentik\.local$/m);
    expect(headers).toMatch(/^Auto-Submitted: auto-generated$/m);
  });

  it("gives every message its own Message-ID in the from address's domain", async () => {
    const a = composeCodeMessage(input());
    const b = composeCodeMessage(input());
    expect(a.messageId).toMatch(/^<[0-9a-f-]{36}@authentik\.local>$/);
    expect(a.messageId).not.toBe(b.messageId);
    expect((await wire(a)).headers).toContain(`Message-ID: ${a.messageId}`);
  });

  it("sanitises a recipient name carrying header injection", async () => {
    const message = composeCodeMessage(
      input({ to: { address: "eve@example.com", name: 'Eve\r\nBcc: victim@example.org\r\n"<x@y.z>' } }),
    );
    expect(message.to.name).toBe("Eve Bcc: victim@example.org x@y.z");
    const { headers, raw } = await wire(message);
    expect(headers).not.toMatch(/^Bcc:/im);
    expect(raw).not.toMatch(/\r\nBcc:/i);
    const to = /^To: (.*(?:\r\n[ \t].*)*)$/m.exec(headers)?.[1] ?? "";
    expect(to).toMatch(/<eve@example\.com>$/);
    expect(to).not.toContain("<x@y.z>");
  });

  it("omits an empty or missing display name", async () => {
    const message = composeCodeMessage(input({ to: { address: "eve@example.com" } }));
    expect(message.to).toEqual({ name: "", address: "eve@example.com" });
    expect((await wire(message)).headers).toMatch(/^To: eve@example\.com$/m);
  });

  it("strips line breaks from the subject", async () => {
    const message = composeCodeMessage(input({ subject: "Sign-in\r\nBcc: victim@example.org\n code" }));
    expect(message.subject).toBe("Sign-in Bcc: victim@example.org code");
    expect((await wire(message)).headers).not.toMatch(/^Bcc:/im);
  });

  it("keeps user names to one line and escapes them in HTML", () => {
    const message = composeCodeMessage(
      input({
        values: {
          code: CODE,
          expiresInMinutes: 5,
          userName: "Tom & <b>Jerry</b>\r\n\r\nClick evil.example",
          friendlyName: "Email",
          maskedEmail: "e**@e******.com",
        },
      }),
    );
    expect(message.text).toContain("Hi Tom & bJerry/b Click evil.example,");
    expect(message.html).toContain("Hi Tom &#38; bJerry/b Click evil.example,");
    expect(message.html).toContain("valid for 5 minutes");
  });

  it("uses custom templates from the stage's ConfigMap", () => {
    const message = composeCodeMessage(
      input({
        templates: {
          html: "<p>{{ friendly_name }}: {{ code }} for {{ email }}</p>",
          text: "{{ code }} ({{ expires_in_minutes }} min)",
        },
      }),
    );
    expect(message.html).toBe(`<p>Email: ${CODE} for e**@e******.com</p>`);
    expect(message.text).toBe(`${CODE} (30 min)`);
  });

  it("refuses a custom template without the code", () => {
    expect(() => composeCodeMessage(input({ templates: { html: "<p>hi</p>", text: "{{ code }}" } }))).toThrow(
      TemplateError,
    );
  });
});

describe("the user's language", () => {
  it("writes the built-in email in German for locale de, code still only in the body", () => {
    const m = composeCodeMessage(input({ locale: "de-AT", values: { ...input().values, expiresInMinutes: 1 } }));
    expect(m.text).toContain("Hallo eve,");
    expect(m.text).toContain("Ihr E-Mail-Code:");
    expect(m.text).toContain("Der Code oben gilt 1 Minute.");
    expect(m.text).toContain(CODE);
    expect(m.html).toContain('lang="de"');
    expect(m.html).toContain("Hallo eve,");
    expect(m.html).not.toMatch(/Hi eve|Email MFA code|valid for/);
    expect(m.subject).not.toContain(CODE);
  });

  it("escapes the user's name in the translated email too", () => {
    const m = composeCodeMessage(input({ locale: "de", values: { ...input().values, userName: "Tom & 'Jerry'" } }));
    expect(m.html).toContain("Hallo Tom &#38; &#39;Jerry&#39;,");
  });

  it("keeps a stage's own templates as they are", () => {
    const templates = { html: "<p>{{ code }}</p>", text: "{{ code }}" };
    expect(composeCodeMessage(input({ locale: "de", templates })).text).toBe(CODE);
  });
});
