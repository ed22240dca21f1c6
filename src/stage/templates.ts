// A stage's email templates: none (the built-ins), or both keys of its ConfigMap, each compiled
// once to prove it usable. The reconciler reports a problem as Stalled; the API refuses to send.
import type { ConfigMap } from "@emailauth/operator-runtime";
import { compileTemplate, TemplateError } from "../email/template.ts";
import type { StageSpec } from "../kinds/v1alpha1/stage.ts";

export type TemplateResolution =
  | { ok: true; templates?: { html: string; text: string } }
  | { ok: false; reason: "TemplateNotFound" | "InvalidTemplate"; message: string };

export function stageTemplates(
  namespace: string,
  spec: StageSpec,
  configMap: ConfigMap | null | undefined,
): TemplateResolution {
  const ref = spec.templateRef;
  if (!ref) return { ok: true };
  const where = `ConfigMap ${namespace}/${ref.name}`;
  if (!configMap) return { ok: false, reason: "TemplateNotFound", message: `the template ${where} does not exist` };
  const data = configMap.data ?? {};
  const sources = { html: data[ref.htmlKey], text: data[ref.textKey] };
  for (const [format, key] of [
    ["html", ref.htmlKey],
    ["text", ref.textKey],
  ] as const) {
    const source = sources[format];
    if (source === undefined)
      return { ok: false, reason: "InvalidTemplate", message: `the template ${where} has no key ${key}` };
    try {
      compileTemplate(source, format);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      return { ok: false, reason: "InvalidTemplate", message: `${where} key ${key}: ${e.message}` };
    }
  }
  return { ok: true, templates: { html: sources.html ?? "", text: sources.text ?? "" } };
}
