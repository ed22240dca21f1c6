// The operator-wide SMTP settings: a ConfigMap (non-secret connection settings) and a Secret
// (credentials), both named in the operator's configuration and the Helm values.
import { z } from "zod";
import { emailAddress } from "./v1alpha1/common.ts";
import { smtpHost, tlsMode } from "./v1alpha1/stage.ts";

/** ConfigMap data is all strings; numbers are parsed here with the same bounds as the CRD. */
const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.int().min(min).max(max));

export const globalSettingsData = z.strictObject({
  host: smtpHost.default("localhost"),
  port: intString(1, 65535).default(25),
  tlsMode: tlsMode.default("None"),
  timeout: intString(1, 300).default(10),
  fromAddress: emailAddress.default("system@authentik.local"),
  /** As a stage's connection.allowInsecureAuth: AUTH without TLS to a host that is not loopback. */
  allowInsecureAuth: z
    .enum(["true", "false"], "must be true or false")
    .transform((v) => v === "true")
    .optional(),
});
export type GlobalSettings = z.output<typeof globalSettingsData>;

export const GLOBAL_CREDENTIAL_KEYS = { username: "username", password: "password" } as const;
