// The chart's CRD templates (charts/email-authenticator-operator/templates/crd-<plural>.yaml),
// generated from the same kind definitions as crds/ so the two cannot drift. As cert-manager does,
// the CRDs are templates rather than files in the chart's crds/ folder (which Helm never
// upgrades): `crds.enabled` gates them and `crds.keep` keeps them on uninstall.
import { dump } from "js-yaml";
import { customResourceDefinition } from "../src/kinds/crd.ts";
import { allKinds } from "../src/kinds/v1alpha1/kinds.ts";

export const CHART_DIR = "charts/email-authenticator-operator";

/** `{{` would start a template action; emit it as a string literal instead. `}}` is plain text. */
export function escapeTemplate(text: string): string {
  return text.replaceAll("{{", '{{ "{{" }}');
}

function indent(text: string, spaces: number): string {
  const pad = " ".repeat(spaces);
  return text
    .split("\n")
    .map((line) => (line === "" ? line : pad + line))
    .join("\n");
}

export function chartCrdFiles(): { path: string; text: string }[] {
  return allKinds.map((kind) => {
    const crd = customResourceDefinition(kind) as { metadata: { name: string }; spec: unknown };
    const spec = escapeTemplate(dump(crd.spec, { lineWidth: 120, noRefs: true }));
    const text = [
      "{{- /* Generated from src/kinds by `npm run generate`. Do not edit. */ -}}",
      "{{- if .Values.crds.enabled }}",
      "apiVersion: apiextensions.k8s.io/v1",
      "kind: CustomResourceDefinition",
      "metadata:",
      `  name: ${crd.metadata.name}`,
      "  labels:",
      '    {{- include "email-authenticator-operator.labels" . | nindent 4 }}',
      "  {{- if .Values.crds.keep }}",
      "  annotations:",
      "    # Uninstalling the release must not delete the CRDs and with them every stage, binding and device.",
      "    helm.sh/resource-policy: keep",
      "  {{- end }}",
      "spec:",
      indent(spec, 2).trimEnd(),
      "{{- end }}",
      "",
    ].join("\n");
    return { path: `${CHART_DIR}/templates/crd-${kind.plural}.yaml`, text };
  });
}
