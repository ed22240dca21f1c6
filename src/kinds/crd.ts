// Turns a kind definition into a CustomResourceDefinition. Pure: the generator script writes
// the result to crds/, the test harness installs it, and a test checks the two agree.
import { z } from "zod";
import { CATEGORY, type KindDefinition } from "./v1alpha1/kinds.ts";
import { GROUP, VERSION } from "./v1alpha1/common.ts";

type JsonSchema = { [key: string]: unknown };

/**
 * zod emits JSON Schema; a CRD needs a structural OpenAPI v3 subset. Unknown fields are
 * handled by the API server (pruning, or an error under strict field validation) rather than
 * `additionalProperties: false`, which a structural schema may not combine with `properties`.
 */
export function toStructural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toStructural);
  if (node === null || typeof node !== "object") return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node as JsonSchema)) {
    if (key === "additionalProperties" && value === false) continue;
    // zod's safe-integer bounds add nothing the API server's int64 does not already enforce.
    if ((key === "minimum" || key === "maximum") && Math.abs(value as number) === Number.MAX_SAFE_INTEGER) continue;
    out[key] =
      key === "x-kubernetes-validations" || key === "enum" || key === "required" || key === "default"
        ? value
        : toStructural(value);
  }
  // RFC 3339 is enforced by `format`; zod's own pattern for it uses syntax RE2 lacks.
  if (out.format === "date-time") delete out.pattern;
  return out;
}

export function openApiSchema(schema: z.ZodType): JsonSchema {
  return toStructural(z.toJSONSchema(schema, { io: "input", target: "openapi-3.0" })) as JsonSchema;
}

export function customResourceDefinition(def: KindDefinition): JsonSchema {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: "Namespaced",
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: [CATEGORY],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: "object",
              description: def.description,
              required: ["spec"],
              ...(def.objectRules ? { "x-kubernetes-validations": def.objectRules } : {}),
              properties: {
                apiVersion: { type: "string" },
                kind: { type: "string" },
                metadata: { type: "object" },
                spec: openApiSchema(def.spec),
                status: openApiSchema(def.status),
              },
            },
          },
        },
      ],
    },
  };
}
