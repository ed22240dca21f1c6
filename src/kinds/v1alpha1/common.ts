// Building blocks shared by the three kinds. Every pattern here must mean the same in
// JavaScript and in Go's RE2 (the API server compiles the CRD patterns), so no lookarounds.
import { z } from "zod";

export const GROUP = "emailauth.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
}

/** Adds CEL rules to a schema's CRD output, keeping rules it already carries. */
export function withCel<T extends z.ZodType>(schema: T, ...rules: CelRule[]): T {
  const meta = schema.meta() ?? {};
  const previous = (meta["x-kubernetes-validations"] as CelRule[] | undefined) ?? [];
  return schema.meta({ ...meta, "x-kubernetes-validations": [...previous, ...rules] });
}

/** A transition rule: the field keeps the value it was created with. */
export const immutable = <T extends z.ZodType>(schema: T, what: string): T =>
  withCel(schema, { rule: "self == oldSelf", message: `${what} is immutable` });

/** RFC 1123 label: flow names, which also name the RBAC resource `flows`. */
export const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);

/** RFC 1123 subdomain: names of Kubernetes objects. */
export const objectName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/);

/** A key inside a Secret or ConfigMap. */
export const dataKey = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[-._a-zA-Z0-9]+$/);

/** Free text shown to people: no C0 or C1 control characters, so no header, log or terminal injection. */
export const displayText = (max: number) =>
  z
    .string()
    .max(max)
    // eslint-disable-next-line no-control-regex -- the point is to refuse control characters
    .regex(/^[^\x00-\x1f\x7f-\x9f]*$/);

/**
 * The strict address allow-list: an ASCII dot-atom local part (no quotes, comments, spaces
 * or control characters) and a DNS domain of at least two labels. IDN domains are accepted
 * by the HTTP API and converted to punycode before they are stored, so stored addresses
 * always match this. The local part's 64-octet limit is a CEL rule (RE2 cannot count it).
 */
export const EMAIL_PATTERN =
  "^[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+)*" +
  "@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+([A-Za-z]{2,63}|xn--[A-Za-z0-9-]{1,59})$";

const LOCAL_PART_MESSAGE = "the local part of an address is at most 64 characters";
export const emailAddress = withCel(
  z
    .string()
    .max(254)
    .regex(new RegExp(EMAIL_PATTERN))
    .refine((s) => s.indexOf("@") <= 64, LOCAL_PART_MESSAGE),
  { rule: "self.indexOf('@') <= 64", message: LOCAL_PART_MESSAGE },
);

export const localObjectRef = z.strictObject({ name: objectName });

/** metav1.Condition, as Flux's kstatus and Argo CD read it. */
export const condition = z.strictObject({
  type: z
    .string()
    .max(316)
    .regex(
      /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
    ),
  status: z.enum(["True", "False", "Unknown"]),
  observedGeneration: z.int().min(0).optional(),
  lastTransitionTime: z.iso.datetime(),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
  message: z.string().max(32768),
});
export type Condition = z.infer<typeof condition>;

export const conditions = z
  .array(condition)
  .max(16)
  .meta({ "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"] });

/** Fields every status of ours has. */
export const statusBase = {
  observedGeneration: z.int().min(0).optional(),
  conditions: conditions.optional(),
};
