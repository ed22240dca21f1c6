// Email templates: plain text with `{{ name }}` placeholders, no logic. Compiling checks a
// template once (the stage controller reports an unusable one as Stalled); rendering escapes
// every value for HTML, so a user's name cannot inject markup.

export const TEMPLATE_VARIABLES = ["code", "expires_in_minutes", "user_name", "friendly_name", "email"] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateValues = Record<TemplateVariable, string>;

/** Large enough for any real email, small enough that a ConfigMap mistake stays cheap. */
export const MAX_TEMPLATE_BYTES = 64 * 1024;

type Part = { text: string } | { variable: TemplateVariable };
export interface CompiledTemplate {
  parts: readonly Part[];
  format: "html" | "text";
}

export class TemplateError extends Error {
  override name = "TemplateError";
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export function compileTemplate(source: string, format: "html" | "text"): CompiledTemplate {
  if (Buffer.byteLength(source) > MAX_TEMPLATE_BYTES)
    throw new TemplateError(`the ${format} template is larger than ${MAX_TEMPLATE_BYTES} bytes`);
  const parts: Part[] = [];
  let last = 0;
  for (const match of source.matchAll(PLACEHOLDER)) {
    const name = match[1] ?? "";
    if (!isVariable(name)) {
      throw new TemplateError(
        `the ${format} template uses unknown placeholder {{ ${name} }}; known: ${TEMPLATE_VARIABLES.join(", ")}`,
      );
    }
    pushText(parts, source.slice(last, match.index), format);
    parts.push({ variable: name });
    last = match.index + match[0].length;
  }
  pushText(parts, source.slice(last), format);
  if (!parts.some((p) => "variable" in p && p.variable === "code")) {
    throw new TemplateError(`the ${format} template never shows the code: it needs {{ code }}`);
  }
  return { parts, format };
}

export function renderTemplate(template: CompiledTemplate, values: TemplateValues): string {
  return template.parts
    .map((p) =>
      "text" in p ? p.text : template.format === "html" ? escapeHtml(values[p.variable]) : values[p.variable],
    )
    .join("");
}

function pushText(parts: Part[], text: string, format: string): void {
  // Braces left over after the placeholders were taken out are a typo such as "{{ code }".
  if (text.includes("{{") || text.includes("}}")) {
    const at = text.includes("{{") ? text.indexOf("{{") : text.indexOf("}}");
    throw new TemplateError(
      `the ${format} template has an unbalanced placeholder near ${JSON.stringify(text.slice(at, at + 20))}`,
    );
  }
  if (text) parts.push({ text });
}

function isVariable(name: string): name is TemplateVariable {
  return (TEMPLATE_VARIABLES as readonly string[]).includes(name);
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
