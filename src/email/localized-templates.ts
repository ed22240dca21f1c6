// The built-in code email in the user's language: the same layout as default-templates.ts, its
// sentences from the message catalogue (mail.*), chosen by the locale the application passed
// for the user. A stage's own templates are never translated.
import { chooseLocale, translator } from "../i18n/catalogue.ts";
import { DEFAULT_HTML_SOURCE, DEFAULT_TEXT_SOURCE } from "./default-templates.ts";
import { type CompiledTemplate, compileTemplate, escapeHtml } from "./template.ts";

/** The English sentences of the built-in templates, replaced one by one. */
const GREETING = "Hi {{ user_name }},";
const INTRO_TEXT = "Email MFA code:";
const INTRO_HTML = "Email MFA code.";
const VALIDITY =
  "If you did not request this code, please ignore this email. The code above is valid for {{ expires_in_minutes }} minutes.";

export function localizedTemplates(
  locale: string,
  expiresInMinutes: number,
): { html: CompiledTemplate; text: CompiledTemplate; lang: string } {
  const { t, locale: lang } = translator(chooseLocale(undefined, locale));
  // Placeholders pass through the catalogue as literal text, so values are still escaped at render.
  const greeting = t("mail.greeting", { name: "{{ user_name }}" });
  const intro = t("mail.intro");
  const validity = t("mail.validity", { count: expiresInMinutes }).replace(
    String(expiresInMinutes),
    "{{ expires_in_minutes }}",
  );
  const text = DEFAULT_TEXT_SOURCE.replace(GREETING, greeting).replace(INTRO_TEXT, intro).replace(VALIDITY, validity);
  const html = DEFAULT_HTML_SOURCE.replace('lang="en"', `lang="${lang}"`)
    .replace(GREETING, escapeHtml(greeting))
    .replace(INTRO_HTML, escapeHtml(intro))
    .replace(VALIDITY, escapeHtml(validity));
  return { html: compileTemplate(html, "html"), text: compileTemplate(text, "text"), lang };
}
