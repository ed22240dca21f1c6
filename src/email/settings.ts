// Resolves the SMTP settings a stage sends with, from its own connection block and Secrets or
// from the global ConfigMap and Secret. Pure: the caller gathers the objects (from caches), and
// every problem comes back as a reason and a message a human can act on, never as an exception.
import { X509Certificate } from "node:crypto";
import type { ConfigMap, Secret } from "@emailauth/operator-runtime";
import { GLOBAL_CREDENTIAL_KEYS, globalSettingsData } from "../kinds/global-settings.ts";
import type { StageSpec, TlsMode } from "../kinds/v1alpha1/stage.ts";

export interface SmtpSettings {
  source: "Global" | "Stage";
  host: string;
  port: number;
  tlsMode: TlsMode;
  timeoutSeconds: number;
  fromAddress: string;
  auth?: { user: string; pass: string };
  /** PEM bundle for a relay with a private CA; system roots otherwise. */
  ca?: string;
}

export interface GlobalSettingsRef {
  namespace: string;
  configMap: string;
  /** Empty when no global credentials are configured. */
  secret: string;
}

/** What the gatherer found; `null` means looked up and absent, `undefined` means not referenced. */
export interface SettingsInput {
  namespace: string;
  spec: StageSpec;
  global: GlobalSettingsRef;
  globalConfigMap?: ConfigMap | null;
  globalSecret?: Secret | null;
  credentialsSecret?: Secret | null;
  caSecret?: Secret | null;
}

export type Resolution = { ok: true; settings: SmtpSettings } | { ok: false; reason: string; message: string };

const fail = (reason: string, message: string): Resolution => ({ ok: false, reason, message });

export function resolveSmtpSettings(input: SettingsInput): Resolution {
  return input.spec.useGlobalSettings ? resolveGlobal(input) : resolveStage(input);
}

function resolveGlobal({ global, globalConfigMap, globalSecret }: SettingsInput): Resolution {
  const where = `ConfigMap ${global.namespace}/${global.configMap}`;
  if (!globalConfigMap)
    return fail("GlobalSettingsNotFound", `useGlobalSettings is true but the global settings ${where} does not exist`);
  const parsed = globalSettingsData.safeParse(globalConfigMap.data ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "data"}: ${i.message}`).join("; ");
    return fail("InvalidGlobalSettings", `the global settings ${where} are invalid: ${problems}`);
  }
  const data = parsed.data;
  let auth: SmtpSettings["auth"];
  if (global.secret) {
    if (!globalSecret)
      return fail(
        "SecretNotFound",
        `the global credentials Secret ${global.namespace}/${global.secret} does not exist`,
      );
    const credentials = readCredentials(globalSecret, GLOBAL_CREDENTIAL_KEYS.username, GLOBAL_CREDENTIAL_KEYS.password);
    if (!credentials.ok) return credentials;
    auth = credentials.auth;
  }
  const insecure = refuseCleartextAuth(
    data.host,
    data.tlsMode,
    auth,
    data.allowInsecureAuth ?? false,
    `the global settings ${where}`,
  );
  if (insecure) return insecure;
  return {
    ok: true,
    settings: {
      source: "Global",
      host: data.host,
      port: data.port,
      tlsMode: data.tlsMode,
      timeoutSeconds: data.timeout,
      fromAddress: data.fromAddress,
      ...(auth ? { auth } : {}),
    },
  };
}

function resolveStage({ namespace, spec, credentialsSecret, caSecret }: SettingsInput): Resolution {
  const c = spec.connection;
  // The CRD refuses this; an object stored before that rule existed could still carry it.
  if (c.useTLS && c.useSSL)
    return fail("ConflictingTLSModes", "useTLS (STARTTLS) and useSSL (implicit TLS) are both true; choose one");
  let auth: SmtpSettings["auth"];
  if (c.credentialsSecretRef) {
    const ref = c.credentialsSecretRef;
    if (!credentialsSecret)
      return fail("SecretNotFound", `the credentials Secret ${namespace}/${ref.name} does not exist`);
    const credentials = readCredentials(credentialsSecret, ref.usernameKey, ref.passwordKey);
    if (!credentials.ok) return credentials;
    auth = credentials.auth;
  }
  let ca: string | undefined;
  if (c.caBundleSecretRef) {
    const ref = c.caBundleSecretRef;
    if (!caSecret) return fail("SecretNotFound", `the CA bundle Secret ${namespace}/${ref.name} does not exist`);
    const pem = secretValue(caSecret, ref.key);
    if (pem === undefined)
      return fail("MissingSecretKey", `the CA bundle Secret ${namespace}/${ref.name} has no key ${ref.key}`);
    const problem = checkPem(pem);
    if (problem)
      return fail(
        "InvalidCABundle",
        `the CA bundle in Secret ${namespace}/${ref.name} key ${ref.key} is unusable: ${problem}`,
      );
    ca = pem;
  }
  const tlsMode: TlsMode = c.useSSL ? "ImplicitTLS" : c.useTLS ? "STARTTLS" : "None";
  const insecure = refuseCleartextAuth(c.host, tlsMode, auth, c.allowInsecureAuth, "the stage's connection");
  if (insecure) return insecure;
  return {
    ok: true,
    settings: {
      source: "Stage",
      host: c.host,
      port: c.port,
      tlsMode,
      timeoutSeconds: c.timeout,
      fromAddress: c.fromAddress,
      ...(auth ? { auth } : {}),
      ...(ca ? { ca } : {}),
    },
  };
}

/**
 * AUTH without TLS sends the password in clear text: refused unless the relay is on loopback
 * (the password never leaves the host) or the owner said so with allowInsecureAuth.
 */
function refuseCleartextAuth(
  host: string,
  tlsMode: TlsMode,
  auth: SmtpSettings["auth"],
  allowed: boolean,
  where: string,
): Resolution | undefined {
  if (!auth || tlsMode !== "None" || allowed || isLoopback(host)) return undefined;
  return fail(
    "InsecureAuth",
    `${where} authenticates to ${host} without TLS, which would send the password in clear text; use STARTTLS or implicit TLS, or set allowInsecureAuth to accept that risk`,
  );
}

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

type Credentials = { ok: true; auth: { user: string; pass: string } } | { ok: false; reason: string; message: string };

/** A referenced credentials Secret must hold both keys: one without the other is a mistake. */
function readCredentials(secret: Secret, userKey: string, passKey: string): Credentials {
  const name = `${secret.metadata?.namespace}/${secret.metadata?.name}`;
  const user = secretValue(secret, userKey);
  const pass = secretValue(secret, passKey);
  const missing = [user === undefined ? userKey : "", pass === undefined ? passKey : ""].filter(Boolean);
  if (missing.length)
    return {
      ok: false,
      reason: "MissingSecretKey",
      message: `the credentials Secret ${name} has no key ${missing.join(" and no key ")}`,
    };
  return { ok: true, auth: { user: user ?? "", pass: pass ?? "" } };
}

function secretValue(secret: Secret, key: string): string | undefined {
  const encoded = secret.data?.[key];
  if (encoded !== undefined) return Buffer.from(encoded, "base64").toString("utf8");
  return secret.stringData?.[key];
}

function checkPem(pem: string): string | undefined {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) return "no PEM certificate found";
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (e) {
      return `a certificate does not parse (${(e as Error).message})`;
    }
  }
  return undefined;
}

/** What status shows: never credentials. */
export function connectionSummary(s: SmtpSettings): { endpoint: string; tlsMode: TlsMode; source: "Global" | "Stage" } {
  const host = s.host.includes(":") ? `[${s.host}]` : s.host;
  return { endpoint: `${host}:${s.port}`, tlsMode: s.tlsMode, source: s.source };
}
