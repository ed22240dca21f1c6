import MailComposer from "nodemailer/lib/mail-composer";
import { describe, expect, it } from "vitest";
import { composeCodeMessage, type CodeMessage } from "./compose.ts";
import { MimeError, mimeMessage } from "./mime.ts";
import type { SmtpSettings } from "./settings.ts";

const settings: SmtpSettings = {
  source: "Stage",
  host: "127.0.0.1",
  port: 25,
  tlsMode: "None",
  timeoutSeconds: 10,
  fromAddress: "codes@example.com",
};
const DATE = new Date("2026-12-02T06:13:14.000Z");

function codeMessage(over: { subject?: string; name?: string; locale?: string } = {}): CodeMessage {
  return composeCodeMessage({
    settings,
    subject: over.subject ?? "Your sign-in code",
    to: { address: "jo@example.com", name: over.name ?? "Jo" },
    ...(over.locale ? { locale: over.locale } : {}),
    values: {
      code: "123456",
      expiresInMinutes: 30,
      userName: "Jo",
      friendlyName: "Email",
      maskedEmail: "j***@example.com",
    },
  });
}

/** A reader of what mimeMessage writes: unfolded headers, and each part's decoded body. */
function read(raw: Buffer) {
  const text = raw.toString("latin1");
  const [head = "", body = ""] = splitOnce(text, "\r\n\r\n");
  const headers = headerMap(head);
  const boundary = /boundary="([^"]+)"/.exec(headers.get("content-type") ?? "")?.[1] ?? "";
  const chunks = body.split(`--${boundary}`);
  expect(chunks.at(-1)).toBe("--\r\n");
  const parts = chunks.slice(1, -1).map((chunk) => {
    const [partHead = "", partBody = ""] = splitOnce(chunk.replace(/^\r\n/, ""), "\r\n\r\n");
    return { headers: headerMap(partHead), body: decodeQuotedPrintable(partBody.replace(/\r\n$/, "")) };
  });
  return { text, headers, boundary, parts };
}

function splitOnce(s: string, separator: string): [string, string] {
  const at = s.indexOf(separator);
  return at < 0 ? [s, ""] : [s.slice(0, at), s.slice(at + separator.length)];
}

function headerMap(head: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]/g, " ").split("\r\n")) {
    const [name = "", value = ""] = splitOnce(line, ": ");
    map.set(name.toLowerCase(), value);
  }
  return map;
}

function decodeQuotedPrintable(s: string): string {
  const bytes = Buffer.from(s.replace(/=\r\n/g, ""), "latin1");
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x3d) {
      out.push(parseInt(bytes.toString("latin1", i + 1, i + 3), 16));
      i += 2;
    } else out.push(bytes[i]!);
  }
  return Buffer.from(out).toString("utf8");
}

/** RFC 2047 Q-encoded words, as the reader of a subject or a name sees them. */
function decodeWords(s: string): string {
  return s
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?UTF-8\?Q\?([^?]*)\?=/gi, (_, q: string) => decodeQuotedPrintable(q.replace(/_/g, " ")));
}

const crlf = (s: string) => s.replace(/\r?\n/g, "\r\n");

describe("mimeMessage", () => {
  it("writes the headers and both alternatives, each decoding back to what was composed", () => {
    const m = codeMessage();
    const { text, headers, parts } = read(mimeMessage(m, DATE, "=_b0undary"));
    expect([...headers.keys()]).toEqual([
      "auto-submitted",
      "x-auto-response-suppress",
      "from",
      "to",
      "subject",
      "message-id",
      "date",
      "mime-version",
      "content-type",
    ]);
    expect(headers.get("from")).toBe("codes@example.com");
    expect(headers.get("to")).toBe("Jo <jo@example.com>");
    expect(headers.get("subject")).toBe("Your sign-in code");
    expect(headers.get("message-id")).toBe(m.messageId);
    expect(headers.get("date")).toBe("Wed, 02 Dec 2026 06:13:14 +0000");
    expect(headers.get("content-type")).toBe('multipart/alternative; boundary="=_b0undary"');
    expect(headers.get("auto-submitted")).toBe("auto-generated");
    expect(parts.map((p) => p.headers.get("content-type"))).toEqual([
      "text/plain; charset=utf-8",
      "text/html; charset=utf-8",
    ]);
    expect(parts.every((p) => p.headers.get("content-transfer-encoding") === "quoted-printable")).toBe(true);
    expect(parts[0]?.body).toBe(crlf(m.text));
    expect(parts[1]?.body).toBe(crlf(m.html));
    expect(parts[0]?.body).toContain("123456");
    // What a relay accepts: ASCII only, CRLF line ends, no line over 78 characters.
    expect(text).toMatch(/^[\x20-\x7e\r\n]*$/);
    expect(text.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    expect(Math.max(...text.split("\r\n").map((l) => l.length))).toBeLessThanOrEqual(78);
  });

  it("encodes a subject and names outside ASCII as encoded words, and quotes ASCII names with specials", () => {
    const german = codeMessage({ subject: "Ihr Anmeldecode für Jürgen Müller", name: "Jürgen Müller", locale: "de" });
    const de = read(mimeMessage(german, DATE));
    expect(de.headers.get("subject")).toMatch(/^=\?UTF-8\?Q\?/);
    expect(decodeWords(de.headers.get("subject") ?? "")).toBe("Ihr Anmeldecode für Jürgen Müller");
    expect(decodeWords(de.headers.get("to") ?? "")).toBe("Jürgen Müller <jo@example.com>");
    expect(de.parts[0]?.body).toBe(crlf(german.text));

    const quoted = read(mimeMessage(codeMessage({ name: "Doe, Jo (work)" }), DATE));
    expect(quoted.headers.get("to")).toBe('"Doe, Jo (work)" <jo@example.com>');
    const bare = read(mimeMessage({ ...codeMessage(), to: { name: "", address: "jo@example.com" } }, DATE));
    expect(bare.headers.get("to")).toBe("jo@example.com");
  });

  it("folds a long subject into lines a relay accepts, and it unfolds to the same text", () => {
    const subject = "Your sign-in code for the very long application name ".repeat(3).trim();
    const { text, headers } = read(mimeMessage(codeMessage({ subject }), DATE));
    expect(headers.get("subject")).toBe(subject);
    expect(text.split("\r\n").filter((l) => l.startsWith(" ")).length).toBeGreaterThan(0);
    expect(Math.max(...text.split("\r\n").map((l) => l.length))).toBeLessThanOrEqual(78);
  });

  it("keeps a body that contains the boundary inside its part", () => {
    const boundary = "=_0123456789abcdef01234567";
    const m = { ...codeMessage(), text: `before\n--${boundary}--\nafter` };
    const { parts } = read(mimeMessage(m, DATE, boundary));
    expect(parts).toHaveLength(2);
    expect(parts[0]?.body).toBe(`before\r\n--${boundary}--\r\nafter`);
  });

  it("uses a fresh random boundary for every message", () => {
    const m = codeMessage();
    expect(read(mimeMessage(m, DATE)).boundary).not.toBe(read(mimeMessage(m, DATE)).boundary);
    expect(read(mimeMessage(m, DATE)).boundary).toMatch(/^=_[0-9a-f]{24}$/);
  });

  it("refuses a header value or an address that could break the header block", () => {
    const m = codeMessage();
    expect(() => mimeMessage({ ...m, headers: { "X-Bad": "a\r\nBcc: x@example.com" } }, DATE)).toThrow(MimeError);
    expect(() => mimeMessage({ ...m, headers: { "X Bad": "a" } }, DATE)).toThrow(MimeError);
    expect(() => mimeMessage({ ...m, messageId: "<a@b>\r\nBcc: x@example.com" }, DATE)).toThrow(MimeError);
    for (const address of [
      "a@b.example\r\nBcc: x@example.com",
      "a, b@example.com",
      "jö@example.com",
      "<a@example.com>",
    ])
      expect(() => mimeMessage({ ...m, to: { name: "", address } }, DATE)).toThrow(MimeError);
  });

  it("carries the same headers and bodies as the mail library's own composer", async () => {
    const m = codeMessage({ subject: "Ihr Anmeldecode für Müller", name: "Jürgen Müller", locale: "de" });
    const ours = read(mimeMessage(m, DATE));
    const theirs = read(await new MailComposer({ ...m, date: DATE }).compile().build());
    for (const name of ["auto-submitted", "x-auto-response-suppress", "from", "to", "subject", "date", "message-id"])
      expect(decodeWords(ours.headers.get(name) ?? ""), name).toBe(decodeWords(theirs.headers.get(name) ?? ""));
    // It leaves the bodies' line ends to the SMTP connection, which sends CRLF.
    expect(ours.parts.map((p) => p.body)).toEqual(theirs.parts.map((p) => crlf(p.body)));
  });
});
