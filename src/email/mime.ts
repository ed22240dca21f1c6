// The code email as one MIME message (RFC 5322, 2045-2047), written in memory in one pass. The
// mail library's composer streams every header and part through a pipeline of its own, about
// 0.8 ms of CPU per message (more than the SMTP exchange after it) and many small socket writes;
// this message always has one shape (text and HTML alternatives, no attachments), so it is
// written directly, with the library's encoders for the parts that need care: encoded words,
// header folding and quoted-printable.
import { randomBytes } from "node:crypto";
import { encodeWord, encodeWords, foldLines, quoteString } from "nodemailer/lib/mime-funcs";
import { encode as encodeQuotedPrintable, wrap as wrapQuotedPrintable } from "nodemailer/lib/qp";
import { EMAIL_PATTERN } from "../kinds/v1alpha1/common.ts";
import type { CodeMessage } from "./compose.ts";

const CRLF = "\r\n";
/** A stored address: an ASCII dot-atom at an ASCII (punycode) domain, nothing to quote. */
const STORED_ADDRESS = new RegExp(EMAIL_PATTERN);
const HEADER_NAME = /^[A-Za-z0-9-]+$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export class MimeError extends Error {
  override name = "MimeError";
}

/**
 * `boundary` only for tests: it is random otherwise. It starts with "=_", which quoted-printable
 * never writes at the start of a line (a literal "=" is always "=3D"), so no body can end a part.
 */
export function mimeMessage(m: CodeMessage, date: Date, boundary = `=_${randomBytes(12).toString("hex")}`): Buffer {
  const headers = [
    ...Object.entries(m.headers).map(([name, value]) => header(name, checkedValue(name, value))),
    header("From", mailbox(m.from)),
    header("To", mailbox(m.to)),
    header("Subject", encodeWords(m.subject, "Q", 52, true)),
    header("Message-ID", checkedValue("Message-ID", m.messageId)),
    header("Date", date.toUTCString().replace(/GMT$/, "+0000")),
    "MIME-Version: 1.0",
    header("Content-Type", `multipart/alternative; boundary="${boundary}"`),
  ];
  const text = [
    ...headers,
    "",
    `--${boundary}`,
    ...textPart("text/plain", m.text),
    `--${boundary}`,
    ...textPart("text/html", m.html),
    `--${boundary}--`,
    "",
  ].join(CRLF);
  return Buffer.from(text, "latin1");
}

function textPart(type: string, body: string): string[] {
  const crlf = body.replace(/\r\n|\r|\n/g, CRLF);
  return [
    `Content-Type: ${type}; charset=utf-8`,
    "Content-Transfer-Encoding: quoted-printable",
    "",
    wrapQuotedPrintable(encodeQuotedPrintable(crlf), 76),
  ];
}

function header(name: string, value: string): string {
  return foldLines(`${name}: ${value}`, 76);
}

/** Values we set ourselves; anything outside printable ASCII here is a bug, not user input. */
function checkedValue(name: string, value: string): string {
  if (!HEADER_NAME.test(name) || !PRINTABLE_ASCII.test(value))
    throw new MimeError(`header ${JSON.stringify(name)} must be printable ASCII`);
  return value;
}

function mailbox({ name, address }: { name: string; address: string }): string {
  if (!STORED_ADDRESS.test(address)) throw new MimeError("an address header takes only a stored address");
  return name ? `${displayName(name)} <${address}>` : address;
}

/** As the library writes a name: bare if words and spaces, quoted if ASCII, an encoded word otherwise. */
function displayName(name: string): string {
  if (/^[\w ]*$/.test(name)) return name;
  if (PRINTABLE_ASCII.test(name)) return quoteString(name);
  return encodeWord(name, "Q", 52);
}
