// Builds the code email as nodemailer message options. The code goes only into the bodies:
// the subject is the stage's, shown on lock screens and kept in relay logs. The recipient is
// the stored, already normalised address, given to nodemailer as an object and as an explicit
// envelope so nothing is re-parsed from a header; the display name is sanitised.
import { randomUUID } from "node:crypto";
import { sanitizeDisplayName } from "./address.ts";
import { DEFAULT_TEMPLATES } from "./default-templates.ts";
import { localizedTemplates } from "./localized-templates.ts";
import type { SmtpSettings } from "./settings.ts";
import { compileTemplate, renderTemplate, type CompiledTemplate, type TemplateValues } from "./template.ts";

export interface CodeMessageInput {
  settings: SmtpSettings;
  /** The stage's subject; never contains the code. */
  subject: string;
  /** `address` is the normalised address from parseAddress or a stored EmailDevice. */
  to: { address: string; name?: string };
  /** Custom sources from the stage's ConfigMap; the built-ins otherwise. */
  templates?: { html: string; text: string };
  /** The user's language (BCP 47) from the application: the built-in templates speak it. */
  locale?: string;
  values: { code: string; expiresInMinutes: number; userName: string; friendlyName: string; maskedEmail: string };
}

export interface CodeMessage {
  from: { name: string; address: string };
  to: { name: string; address: string };
  subject: string;
  text: string;
  html: string;
  messageId: string;
  envelope: { from: string; to: string[] };
  headers: Record<string, string>;
}

/** Throws TemplateError for unusable custom templates (the stage controller reports these first). */
export function composeCodeMessage(input: CodeMessageInput): CodeMessage {
  const { settings, to, values } = input;
  const templates: { html: CompiledTemplate; text: CompiledTemplate } = input.templates
    ? { html: compileTemplate(input.templates.html, "html"), text: compileTemplate(input.templates.text, "text") }
    : input.locale
      ? localizedTemplates(input.locale, values.expiresInMinutes)
      : DEFAULT_TEMPLATES;
  const templateValues: TemplateValues = {
    code: values.code,
    expires_in_minutes: String(values.expiresInMinutes),
    // One line each: a user-chosen name cannot add paragraphs of its own to the mail.
    user_name: sanitizeDisplayName(values.userName),
    friendly_name: sanitizeDisplayName(values.friendlyName),
    email: values.maskedEmail,
  };
  const from = settings.fromAddress;
  return {
    from: { name: "", address: from },
    to: { name: sanitizeDisplayName(to.name ?? ""), address: to.address },
    subject: singleLine(input.subject),
    text: renderTemplate(templates.text, templateValues),
    html: renderTemplate(templates.html, templateValues),
    messageId: `<${randomUUID()}@${from.slice(from.lastIndexOf("@") + 1)}>`,
    envelope: { from, to: [to.address] },
    headers: {
      // RFC 3834: out-of-office and other auto-replies should not answer a code email.
      "Auto-Submitted": "auto-generated",
      "X-Auto-Response-Suppress": "All",
    },
  };
}

/** The subject comes from a validated spec; still, a header never gets a line break from us. */
function singleLine(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex -- the point is to remove control characters
      .replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]+/g, " ")
      .replace(/\s+/g, " ")
      .trim()
  );
}
