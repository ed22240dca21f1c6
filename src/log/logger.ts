// The one logger factory. Redaction is by key name, at every nesting depth we log, because
// what must never reach a log line (SMTP passwords, bearer tokens, one-time codes, HMAC keys)
// is recognisable by its key, not by its value.
import { pino } from "pino";
import type { Bindings, ChildLoggerOptions, DestinationStream, Logger } from "pino";

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
/** The deepest level whose keys are censored: `password`, `a.password`, … `a.b.c.password`. */
const MAX_DEPTH = 3;

const SECRETS = new Set(SECRET_KEYS);

/**
 * Censors the secret keys in one walk: pino's own redaction, given the same keys as 80 wildcard
 * paths (`*.*.password`, …), cost ~45 times the rest of a log line. Plain objects, arrays and
 * errors are copied with secret keys censored, down to MAX_DEPTH; anything else is left as it is
 * (a Date or a Buffer has no keys of ours in its JSON form).
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (typeof value !== "object" || value === null || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => redactSecrets(item, depth + 1)) as T;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null && !(value instanceof Error)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    copy[key] = SECRETS.has(key) ? REDACTED : redactSecrets(inner, depth + 1);
  }
  return copy as T;
}

export function createLogger(options: LoggerOptions): Logger {
  const logger = pino(
    {
      level: options.level,
      // Real errors get pino's serializer (type, message, stack, causes), then the same censoring;
      // plain objects such as normalised Kubernetes errors are censored as any field is.
      serializers: {
        err: (err: unknown) => (err instanceof Error ? redactSecrets({ ...pino.stdSerializers.err(err) }, 1) : err),
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        // Level names rather than numbers: easier to filter in any log backend.
        level: (label) => ({ level: label }),
        bindings: (bindings) => redactSecrets(bindings),
        // Runs before the serializers: a top-level error stays an Error for the one above.
        log: (object) =>
          Object.fromEntries(
            Object.entries(object).map(([key, value]) => [
              key,
              SECRETS.has(key) ? REDACTED : value instanceof Error ? value : redactSecrets(value, 1),
            ]),
          ),
      },
    },
    options.destination ?? pino.destination(1),
  );
  // pino applies formatters.bindings to the root only; children are objects whose prototype is
  // their parent, so this one override censors the bindings of every child and grandchild.
  type ChildFn = (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;
  const { child } = Object.getPrototypeOf(logger) as { child: ChildFn };
  const redactingChild: ChildFn = function (this: Logger, bindings, childOptions) {
    return child.call(this, redactSecrets(bindings), childOptions);
  };
  Object.defineProperty(logger, "child", { value: redactingChild, writable: true, configurable: true });
  return logger;
}
