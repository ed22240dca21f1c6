// SMTP transport options from resolved settings, and the connection check. useSSL means TLS
// from the first byte; useTLS means STARTTLS that is required (the send fails if the relay
// does not offer it); certificates are always verified; the stage timeout bounds every phase.
import { createTransport } from "nodemailer";
import type { SmtpSettings } from "./settings.ts";

export function transportOptions(s: SmtpSettings) {
  const ms = s.timeoutSeconds * 1000;
  return {
    host: s.host,
    port: s.port,
    secure: s.tlsMode === "ImplicitTLS",
    requireTLS: s.tlsMode === "STARTTLS",
    // "None" is the seed's plain SMTP: no opportunistic upgrade whose failure would surprise.
    ignoreTLS: s.tlsMode === "None",
    connectionTimeout: ms,
    greetingTimeout: ms,
    socketTimeout: ms,
    dnsTimeout: ms,
    ...(s.auth ? { auth: { user: s.auth.user, pass: s.auth.pass } } : {}),
    tls: { rejectUnauthorized: true, minVersion: "TLSv1.2" as const, ...(s.ca ? { ca: s.ca } : {}) },
    logger: false,
    debug: false,
  };
}

export interface CheckResult {
  ok: boolean;
  reason: string;
  message: string;
}

/** Connects, starts TLS and authenticates without sending anything. Never throws. */
export async function checkConnection(s: SmtpSettings): Promise<CheckResult> {
  const transport = createTransport(transportOptions(s));
  const started = Date.now();
  try {
    await withDeadline(transport.verify(), s.timeoutSeconds * 1000);
    const tls = { None: "without TLS", STARTTLS: "with STARTTLS", ImplicitTLS: "with implicit TLS" }[s.tlsMode];
    return {
      ok: true,
      reason: "Verified",
      message: `connected to ${s.host}:${s.port} ${tls}${s.auth ? " and authenticated" : ""} in ${Date.now() - started} ms`,
    };
  } catch (e) {
    return { ok: false, ...classifySmtpError(e, s) };
  } finally {
    transport.close();
  }
}

/** A reason and a message without credentials (nodemailer's messages never echo them). */
export function classifySmtpError(e: unknown, s: SmtpSettings): { reason: string; message: string } {
  const err = e as { code?: string; message?: string; responseCode?: number };
  const where = `${s.host}:${s.port}`;
  const detail = (err.message ?? String(e)).replace(/\s+/g, " ").slice(0, 300);
  switch (err.code) {
    case "EAUTH":
    case "ENOAUTH":
      return { reason: "AuthFailed", message: `${where} refused the credentials: ${detail}` };
    case "ETLS":
    case "EREQUIRETLS":
      return { reason: "TLSFailed", message: `TLS with ${where} failed: ${detail}` };
    case "ETIMEDOUT":
      return { reason: "Timeout", message: `${where} did not answer within ${s.timeoutSeconds}s: ${detail}` };
    case "EDNS":
      return { reason: "ConnectionFailed", message: `cannot resolve ${s.host}: ${detail}` };
    default:
      // Certificate problems surface as socket errors with the TLS library's message.
      if (/certificate|self[- ]signed|SSL|TLS|wrong version/i.test(detail))
        return { reason: "TLSFailed", message: `TLS with ${where} failed: ${detail}` };
      return { reason: "ConnectionFailed", message: `cannot talk to ${where}: ${detail}` };
  }
}

export async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer within ${ms / 1000}s`), { code: "ETIMEDOUT" })),
      ms,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
