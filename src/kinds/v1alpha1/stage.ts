// EmailAuthenticatorStage: the seed's "Email Authenticator Setup stage" as a resource.
// Defaults are the seed's and are applied by the API server through the generated CRD.
import { z } from "zod";
import { dataKey, displayText, dnsLabel, emailAddress, localObjectRef, objectName, statusBase } from "./common.ts";

/** Hostname, IPv4 or IPv6 literal; nothing that could carry a scheme, path or whitespace. */
export const smtpHost = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9:]([A-Za-z0-9.:-]*[A-Za-z0-9])?$/);

export const credentialsSecretRef = z
  .strictObject({
    name: objectName,
    usernameKey: dataKey.default("username"),
    passwordKey: dataKey.default("password"),
  })
  .meta({
    description: "Secret holding the SMTP credentials; both keys are optional in the Secret (no AUTH when absent).",
  });

export const caBundleSecretRef = z.strictObject({ name: objectName, key: dataKey.default("ca.crt") }).meta({
  description: "Secret holding PEM CA certificates for a relay with a private CA. Verification is never turned off.",
});

export const connection = z
  .strictObject({
    host: smtpHost.default("localhost"),
    port: z.int().min(1).max(65535).default(25),
    credentialsSecretRef: credentialsSecretRef.optional(),
    useTLS: z
      .boolean()
      .default(false)
      .meta({ description: "STARTTLS, required: the mail is not sent if the relay does not offer it." }),
    useSSL: z.boolean().default(false).meta({ description: "Implicit TLS from the first byte (usually port 465)." }),
    timeout: z
      .int()
      .min(1)
      .max(300)
      .default(10)
      .meta({ description: "Seconds allowed to connect, greet, authenticate and send." }),
    fromAddress: emailAddress.default("system@authentik.local"),
    caBundleSecretRef: caBundleSecretRef.optional(),
    allowInsecureAuth: z.boolean().default(false).meta({
      description:
        "Allow SMTP AUTH without TLS to a relay that is not on loopback; the password then crosses the network in clear text. Without it such a stage is Stalled (InsecureAuth).",
    }),
  })
  .meta({
    description:
      "Stage-specific SMTP settings; ignored when useGlobalSettings is true. Defaults to localhost:25 without TLS.",
    "x-kubernetes-validations": [
      {
        rule: "!(has(self.useTLS) && has(self.useSSL) && self.useTLS && self.useSSL)",
        message: "useTLS (STARTTLS) and useSSL (implicit TLS) are mutually exclusive",
      },
    ],
  });

export const limits = z
  .strictObject({
    attemptsPerCode: z.int().min(1).max(10).default(5),
    failuresPerDay: z
      .int()
      .min(1)
      .max(100)
      .default(10)
      .meta({ description: "Wrong codes per user and stage in 24 hours, counted across resends." }),
    resendCooldownSeconds: z.int().min(0).max(3600).default(60),
    sendsPerAddressPerHour: z.int().min(1).max(100).default(5),
  })
  .meta({ description: "Brute-force and mail-bombing limits." });

export const templateRef = z
  .strictObject({
    name: objectName,
    htmlKey: dataKey.default("email_otp.html"),
    textKey: dataKey.default("email_otp.txt"),
  })
  .meta({ description: "ConfigMap with custom HTML and plain-text email templates." });

export const connectionCheck = z
  .strictObject({
    enabled: z.boolean().default(false),
    intervalMinutes: z.int().min(1).max(1440).default(10),
  })
  .meta({
    description:
      "Periodically connect, start TLS and authenticate (no mail is sent); reported as the ConnectionVerified condition.",
  });

export const deviceDeletionPolicy = z.enum(["Retain", "Delete"]);
export type DeviceDeletionPolicy = z.infer<typeof deviceDeletionPolicy>;

export const stageSpec = z.strictObject({
  friendlyName: displayText(64).optional().meta({ description: "The authenticator type name shown to users." }),
  useGlobalSettings: z
    .boolean()
    .default(false)
    .meta({ description: "Use the operator's global SMTP ConfigMap and Secret, including its from address." }),
  connection: connection.prefault({}),
  subject: displayText(255).min(1).default("authentik Sign-in code"),
  tokenExpiry: z.int().min(1).max(1440).default(30).meta({ description: "Minutes a sent code stays valid." }),
  configureFlow: dnsLabel.optional().meta({ description: "The flow users run to set this authenticator up." }),
  codeLength: z.int().min(6).max(10).default(6),
  limits: limits.prefault({}),
  templateRef: templateRef.optional(),
  connectionCheck: connectionCheck.prefault({}),
  deviceDeletionPolicy: deviceDeletionPolicy.default("Retain").meta({
    description:
      "What deleting the stage does to its EmailDevices. Retain (default): they stay, report StageNotFound, and work again if the stage is re-created. Delete: the operator deletes them before the stage goes (a finalizer holds the stage until then).",
  }),
});
export type StageSpec = z.output<typeof stageSpec>;

export const tlsMode = z.enum(["None", "STARTTLS", "ImplicitTLS"]);
export type TlsMode = z.infer<typeof tlsMode>;

export const stageStatus = z.strictObject({
  ...statusBase,
  connection: z
    .strictObject({
      endpoint: z.string().max(260),
      tlsMode,
      source: z.enum(["Global", "Stage"]),
    })
    .optional()
    .meta({ description: "The resolved SMTP connection; never credentials." }),
  flows: z.array(dnsLabel).max(256).optional(),
  deviceCount: z.int().min(0).optional(),
});
export type StageStatus = z.output<typeof stageStatus>;

export { localObjectRef };
