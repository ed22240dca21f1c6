// Sends code emails over pooled SMTP connections, one pool per distinct connection setting.
// Pools are keyed by a SHA-256 fingerprint of the settings (credentials included, so a rotated
// password gets a new pool and the map never holds them in clear), created on first use and
// closed after a quiet period. Every send is bounded by the stage timeout; a send that fails
// at the connection level retires its pool, so the next send starts on fresh connections.
import { createHash } from "node:crypto";
import { createTransport } from "nodemailer";
import type { CodeMessage } from "./compose.ts";
import { mimeMessage } from "./mime.ts";
import type { SmtpSettings } from "./settings.ts";
import { classifySmtpError, transportOptions, withDeadline } from "./transport.ts";

export type SmtpSendReason = "ConnectionFailed" | "Timeout" | "TLSFailed" | "AuthFailed" | "Rejected";

export class SmtpSendError extends Error {
  override name = "SmtpSendError";
  readonly reason: SmtpSendReason;
  constructor(reason: SmtpSendReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface MailerOptions {
  /** Connections per pool: code emails are small and rare, a relay should not see a burst. */
  maxConnections?: number;
  /** A pool unused this long is closed (its connections too). */
  idleMs?: number;
}

type Transport = ReturnType<typeof createPool>;
interface Pool {
  transport: Transport;
  inFlight: number;
  retired: boolean;
  idleTimer?: NodeJS.Timeout;
}

/** Identifies what a connection depends on; the address a message is from is not part of it. */
export function smtpFingerprint(s: SmtpSettings): string {
  const parts = [s.host, s.port, s.tlsMode, s.timeoutSeconds, s.auth?.user ?? null, s.auth?.pass ?? null, s.ca ?? null];
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

function createPool(settings: SmtpSettings, maxConnections: number, idleMs: number) {
  return createTransport({
    ...transportOptions(settings),
    pool: true,
    maxConnections,
    idleTimeout: idleMs,
    // A message is retried once on another connection only when nodemailer knows none of it
    // was sent (a reused connection the server had dropped, or a close before the greeting).
    maxRequeues: 1,
    // Bodies are our rendered strings; nothing may make nodemailer read files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
}

export class Mailer {
  readonly #pools = new Map<string, Pool>();
  readonly #maxConnections: number;
  readonly #idleMs: number;
  #closed = false;

  constructor(options: MailerOptions = {}) {
    this.#maxConnections = options.maxConnections ?? 2;
    this.#idleMs = options.idleMs ?? 60_000;
  }

  /** Fingerprints of the open pools (hashes only). */
  get openPools(): string[] {
    return [...this.#pools.keys()];
  }

  async send(settings: SmtpSettings, message: CodeMessage): Promise<{ messageId: string }> {
    if (this.#closed) throw new SmtpSendError("ConnectionFailed", "the mailer is shut down");
    // Written here in one piece (mime.ts): the library's own composer costs more than the send.
    const raw = mimeMessage(message, new Date());
    const fingerprint = smtpFingerprint(settings);
    const pool = this.#acquire(fingerprint, settings);
    // Cancels a delivery still queued or stuck when the deadline passes, so a mail reported
    // as failed is not delivered later by the pool.
    const abort = new AbortController();
    try {
      await withDeadline(
        pool.transport.sendMail({ envelope: message.envelope, raw, signal: abort.signal }),
        settings.timeoutSeconds * 1000,
      );
      return { messageId: message.messageId };
    } catch (e) {
      abort.abort();
      const error = toSendError(e, settings);
      if (error.reason !== "Rejected") this.#retire(fingerprint, pool);
      throw error;
    } finally {
      pool.inFlight--;
      this.#settle(fingerprint, pool);
    }
  }

  /** Closes the pool for these settings once its sends have finished (e.g. a rotated Secret). */
  forget(fingerprint: string): void {
    const pool = this.#pools.get(fingerprint);
    if (pool) this.#retire(fingerprint, pool);
  }

  /** Closes every pool now; sends in progress finish or fail, later sends are refused. */
  close(): void {
    this.#closed = true;
    for (const [fingerprint, pool] of this.#pools) {
      this.#pools.delete(fingerprint);
      pool.retired = true;
      clearTimeout(pool.idleTimer);
      pool.transport.close();
    }
  }

  #acquire(fingerprint: string, settings: SmtpSettings): Pool {
    let pool = this.#pools.get(fingerprint);
    if (!pool) {
      pool = { transport: createPool(settings, this.#maxConnections, this.#idleMs), inFlight: 0, retired: false };
      this.#pools.set(fingerprint, pool);
    }
    clearTimeout(pool.idleTimer);
    pool.idleTimer = undefined;
    pool.inFlight++;
    return pool;
  }

  /** Takes the pool out of use; it closes as soon as nothing is in flight on it. */
  #retire(fingerprint: string, pool: Pool): void {
    pool.retired = true;
    if (this.#pools.get(fingerprint) === pool) this.#pools.delete(fingerprint);
    this.#settle(fingerprint, pool);
  }

  #settle(fingerprint: string, pool: Pool): void {
    if (pool.inFlight > 0) return;
    clearTimeout(pool.idleTimer);
    if (pool.retired) {
      pool.transport.close();
      return;
    }
    pool.idleTimer = setTimeout(() => this.#retire(fingerprint, pool), this.#idleMs);
    // An idle pool never keeps the process alive.
    pool.idleTimer.unref();
  }
}

/** Maps nodemailer's error to a reason; the message names the relay, never credentials. */
export function toSendError(e: unknown, settings: SmtpSettings): SmtpSendError {
  const err = e as { code?: string; message?: string };
  const where = `${settings.host}:${settings.port}`;
  if (err.code === "EENVELOPE" || err.code === "EMESSAGE") {
    const detail = (err.message ?? String(e)).replace(/\s+/g, " ").slice(0, 300);
    return new SmtpSendError("Rejected", redact(`${where} refused the message: ${detail}`, settings));
  }
  const { reason, message } = classifySmtpError(e, settings);
  return new SmtpSendError(isReason(reason) ? reason : "ConnectionFailed", redact(message, settings));
}

const REASONS: readonly string[] = [
  "ConnectionFailed",
  "Timeout",
  "TLSFailed",
  "AuthFailed",
  "Rejected",
] satisfies SmtpSendReason[];
const isReason = (r: string): r is SmtpSendReason => REASONS.includes(r);

/** Defence in depth: servers do not echo passwords, but a message must never carry one. */
function redact(message: string, settings: SmtpSettings): string {
  const pass = settings.auth?.pass;
  return pass && pass.length >= 4 ? message.split(pass).join("[redacted]") : message;
}
