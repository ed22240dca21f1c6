// Who we are to the API server, per request: a header and perhaps a client certificate. Files are
// read once, as client-go does, except a token file, which a Pod's kubelet rotates and is re-read
// once a minute; an exec plugin runs once and again when its credential expires or is refused.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import type { UserConfig } from "./kube-config.ts";

export interface Credentials {
  /** The Authorization header's value. */
  readonly authorization?: string;
  /** PEM client certificate and key, for the TLS connection. */
  readonly cert?: string;
  readonly key?: string;
}

export interface CredentialSource {
  get(): Promise<Credentials>;
  /** The API server answered 401: drop what is cached so the next get() fetches anew. */
  refused(): void;
}

export type RunExec = (command: string, args: readonly string[], env: NodeJS.ProcessEnv) => Promise<string>;

export interface CredentialOptions {
  readonly now?: () => number;
  readonly runExec?: RunExec;
  readonly env?: NodeJS.ProcessEnv;
}

/** How long a token read from a file is used before the file is read again (client-go: 1 min). */
export const TOKEN_FILE_TTL_MS = 60_000;
/** An exec credential is renewed this long before its stated expiry. */
const EXEC_EXPIRY_MARGIN_MS = 10_000;

export function credentialSource(user: UserConfig | null, options: CredentialOptions = {}): CredentialSource {
  const now = options.now ?? Date.now;
  if (user?.exec) return execCredentials(user, now, options.runExec ?? runExecFile, options.env ?? process.env);
  if (user?.authProvider) {
    const tokenFile = user.authProvider.name === "tokenFile" ? user.authProvider.config?.tokenFile : undefined;
    if (typeof tokenFile !== "string") {
      throw new Error(`auth provider ${user.authProvider.name ?? "(unnamed)"} is not supported; use an exec plugin`);
    }
    return tokenFileCredentials(tokenFile, staticTls(user), now);
  }
  const fixed: Credentials = { ...staticTls(user), ...headerOf(user) };
  return { get: () => Promise.resolve(fixed), refused: () => {} };
}

function headerOf(user: UserConfig | null): Pick<Credentials, "authorization"> {
  if (user?.token) return { authorization: `Bearer ${user.token}` };
  if (user?.username) {
    return { authorization: `Basic ${Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64")}` };
  }
  return {};
}

function staticTls(user: UserConfig | null): Pick<Credentials, "cert" | "key"> {
  const cert = pem(user?.certData, user?.certFile);
  const key = pem(user?.keyData, user?.keyFile);
  return { ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

/** Inline base64 data wins over a file, as in client-go. */
export function pem(data: string | undefined, file: string | undefined): string | undefined {
  if (data) return Buffer.from(data, "base64").toString("utf8");
  return file ? readFileSync(file, "utf8") : undefined;
}

function tokenFileCredentials(
  path: string,
  tls: Pick<Credentials, "cert" | "key">,
  now: () => number,
): CredentialSource {
  let cached: { value: Credentials; readAt: number } | undefined;
  return {
    get() {
      if (!cached || now() - cached.readAt >= TOKEN_FILE_TTL_MS) {
        let token: string;
        try {
          token = readFileSync(path, "utf8").trim();
        } catch (e) {
          // Mid-rotation or briefly unreadable: keep the last good token, as client-go does.
          if (cached) return Promise.resolve(cached.value);
          return Promise.reject(e instanceof Error ? e : new Error(String(e)));
        }
        cached = { value: { ...tls, authorization: `Bearer ${token}` }, readAt: now() };
      }
      return Promise.resolve(cached.value);
    },
    refused() {
      cached = undefined;
    },
  };
}

function execCredentials(user: UserConfig, now: () => number, run: RunExec, env: NodeJS.ProcessEnv): CredentialSource {
  const exec = user.exec!;
  let cached: { value: Credentials; until: number } | undefined;
  // Concurrent requests wait for one run of the plugin.
  let running: Promise<Credentials> | undefined;
  const fetch = async (): Promise<Credentials> => {
    const apiVersion = exec.apiVersion ?? "client.authentication.k8s.io/v1";
    const info = JSON.stringify({ apiVersion, kind: "ExecCredential", spec: { interactive: false } });
    const extra = Object.fromEntries((exec.env ?? []).map((e) => [e.name, e.value]));
    const out = await run(exec.command, exec.args ?? [], { ...env, ...extra, KUBERNETES_EXEC_INFO: info });
    const invalid = (why: string) => new Error(`exec plugin ${exec.command} did not print an ExecCredential: ${why}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(out);
    } catch {
      throw invalid("not JSON");
    }
    const status = (parsed as { status?: unknown } | null)?.status;
    if (typeof status !== "object" || status === null) throw invalid("no status");
    const str = (k: string): string | undefined => {
      const v = (status as Record<string, unknown>)[k];
      return typeof v === "string" && v !== "" ? v : undefined;
    };
    const token = str("token");
    if (!token && !(str("clientCertificateData") && str("clientKeyData"))) {
      throw invalid("neither a token nor a client certificate and key");
    }
    const value: Credentials = {
      ...staticTls(user),
      ...(token ? { authorization: `Bearer ${token}` } : headerOf(user)),
      ...(str("clientCertificateData") ? { cert: str("clientCertificateData") } : {}),
      ...(str("clientKeyData") ? { key: str("clientKeyData") } : {}),
    };
    const expiry = str("expirationTimestamp");
    const expiresAt = expiry === undefined ? Number.POSITIVE_INFINITY : Date.parse(expiry);
    if (Number.isNaN(expiresAt)) throw invalid(`expirationTimestamp ${JSON.stringify(expiry)} is not a time`);
    cached = { value, until: expiresAt - EXEC_EXPIRY_MARGIN_MS };
    return value;
  };
  return {
    get() {
      if (cached && now() < cached.until) return Promise.resolve(cached.value);
      running ??= fetch().finally(() => (running = undefined));
      return running;
    },
    refused() {
      cached = undefined;
    },
  };
}

const runExecFile: RunExec = (command, args, env) =>
  new Promise((resolve, reject) => {
    execFile(command, [...args], { env, timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err)
        reject(new Error(`exec plugin ${command} failed: ${String(stderr).trim().slice(0, 500) || err.message}`));
      else resolve(String(stdout));
    });
  });
