// The one logger factory. Redaction is by key name, at every nesting depth we log, because
// what must never reach a log line (SMTP passwords, bearer tokens, one-time codes, HMAC keys)
// is recognisable by its key, not by its value.
import { pino } from "pino";
import type { DestinationStream, Logger } from "pino";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level: LogLevel;
  /** Where JSON lines go; stdout when omitted. */
  destination?: DestinationStream;
}

export const REDACTED = "[redacted]";

/**
 * Keys whose values are secret wherever they appear. `code` is here because one-time codes
 * are; the price is that errno codes logged as `err.code` are hidden too, which is why
 * normalised errors carry the code inside their message instead.
 */
const SECRET_KEYS = [
  "password",
  "pass",
  "passwd",
  "secret",
  "clientSecret",
  "token",
  "accessToken",
  "refreshToken",
  "idToken",
  "bearer",
  "authorization",
  "proxy-authorization",
  "cookie",
  "set-cookie",
  "code",
  "otp",
  "hmacKey",
  "privateKey",
  "apiKey",
  "credentials",
];
/** Depths at which the keys are redacted: `password`, `*.password`, … `*.*.*.password`. */
const MAX_DEPTH = 3;

export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((key) => {
  const leaf = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  return Array.from({ length: MAX_DEPTH + 1 }, (_, depth) => {
    if (depth === 0) return leaf;
    const prefix = Array.from({ length: depth }, () => "*").join(".");
    return leaf.startsWith("[") ? `${prefix}${leaf}` : `${prefix}.${leaf}`;
  });
});

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      // Real errors get pino's serializer (type, message, stack, causes); plain objects such as
      // normalised Kubernetes errors are logged as they are, without an empty stack.
      serializers: { err: (err: unknown) => (err instanceof Error ? pino.stdSerializers.err(err) : err) },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names rather than numbers: easier to filter in any log backend.
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination(1),
  );
}
