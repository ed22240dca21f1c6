// One shape for every error a Kubernetes call can throw, so that callers branch on `reason` and
// `retryable` instead of probing `.code`, `.statusCode` or `.response`. Shapes handled:
// - KubeApiError {code, body, headers} from KubeClient (and client-node's ApiException, which
//   tests still use); body is the response text (a JSON Status, or plain text such as
//   "404 page not found") or a Status object.
// - An Error whose message is the status text, with a numeric `statusCode`.
// - A Status object itself, as delivered by a watch ERROR event.
// - The 0.x shape {response: {statusCode}, body}, still produced by some helpers and mocks.
// - Socket errors (errno codes such as ECONNRESET, TLS certificate codes) and undici/fetch
//   errors: TypeError("fetch failed") with the errno or UND_ERR_* code on `cause`.
// - DOMException AbortError / TimeoutError from aborted requests.
// An API error's own message may embed response headers, so it is never used as the message.

export type KubeErrorKind = "api" | "network" | "aborted" | "unknown";

export interface KubeError {
  readonly kind: KubeErrorKind;
  /** HTTP status of an API response. */
  readonly status?: number;
  /** metav1.Status reason ("NotFound", "Conflict", "AlreadyExists", "Gone", "Expired", "Forbidden", "Invalid", …). */
  readonly reason?: string;
  readonly message: string;
  /** Whether the same request may succeed later without anything being changed. */
  readonly retryable: boolean;
  /** Server-suggested wait, from Status.details.retryAfterSeconds or a Retry-After header. */
  readonly retryAfterSeconds?: number;
}

const NORMALIZED = Symbol("KubeError");
const MAX_MESSAGE = 2048;

/** apimachinery's reason for a status code when the response carries no Status. */
const REASON_BY_STATUS: Readonly<Record<number, string>> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Gone",
  413: "RequestEntityTooLarge",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

const TRANSIENT_ERRNO = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EADDRNOTAVAIL",
]);
const NOT_NETWORK_UNDICI = new Set(["UND_ERR_INVALID_ARG", "UND_ERR_INVALID_RETURN_VALUE", "UND_ERR_NOT_SUPPORTED"]);
const ABORT_CODES = new Set(["UND_ERR_ABORTED", "UND_ERR_ABORT", "ABORT_ERR"]);
const TLS_CODE = /^ERR_(TLS|SSL)_|CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;

export function normalizeError(err: unknown): KubeError {
  if (isRecord(err) && NORMALIZED in err) return err as unknown as KubeError;
  return brand(classify(err, 0));
}

export const isNotFound = (err: unknown): boolean => reasonOf(err) === "NotFound";
export const isConflict = (err: unknown): boolean => reasonOf(err) === "Conflict";
export const isAlreadyExists = (err: unknown): boolean => reasonOf(err) === "AlreadyExists";
export const isForbidden = (err: unknown): boolean => reasonOf(err) === "Forbidden";
export const isInvalid = (err: unknown): boolean => reasonOf(err) === "Invalid";
/** 410: the resourceVersion is too old (reason "Expired" on watches, "Gone" otherwise); relist. */
export const isGone = (err: unknown): boolean => normalizeError(err).status === 410;

function reasonOf(err: unknown): string | undefined {
  const e = normalizeError(err);
  return e.kind === "api" ? e.reason : undefined;
}

/** Errors of unknown origin count as retryable: the controller backs off anyway. */
function classify(err: unknown, depth: number): KubeError {
  if (!isRecord(err)) {
    return {
      kind: "unknown",
      message: scrub(typeof err === "string" ? err : `non-error thrown: ${String(err)}`),
      retryable: true,
    };
  }
  const name = stringField(err, "name");
  const code = err.code;
  if (name === "AbortError" || (typeof code === "string" && ABORT_CODES.has(code))) {
    return { kind: "aborted", message: "request aborted", retryable: false };
  }
  if (name === "TimeoutError") {
    return { kind: "network", reason: "Timeout", message: "request timed out", retryable: true };
  }
  if (typeof code === "number" && "body" in err && "headers" in err) return fromResponse(code, err.body, err.headers);
  if (typeof err.statusCode === "number") {
    return fromResponse(err.statusCode, undefined, undefined, stringField(err, "message"));
  }
  if (isRecord(err.response) && typeof err.response.statusCode === "number") {
    return fromResponse(err.response.statusCode, err.body, err.response.headers);
  }
  if (err.kind === "Status" && typeof code === "number") return fromResponse(code, err);
  const message = stringField(err, "message");
  if (typeof code === "string" && isNetworkCode(code)) {
    const text = message?.includes(code) ? message : `${code}: ${message || "network error"}`;
    return { kind: "network", message: scrub(text), retryable: !TLS_CODE.test(code) };
  }
  // fetch wraps the socket error in `cause` (sometimes an AggregateError); callers wrap API
  // errors in `cause` to add context. Either way the inner error decides the classification.
  if (depth < 5) {
    const inner = [err.cause, ...(Array.isArray(err.errors) ? (err.errors as unknown[]) : [])]
      .filter(isRecord)
      .map((e) => classify(e, depth + 1))
      .find((e) => e.kind !== "unknown");
    if (inner) return { ...inner, message: message ? scrub(`${message}: ${inner.message}`) : inner.message };
  }
  if (err instanceof Error || message !== undefined) {
    return { kind: "unknown", message: scrub(message || name || "error without a message"), retryable: true };
  }
  // A foreign object is described by its keys only: its values could be anything, secrets included.
  return {
    kind: "unknown",
    message: `non-error object thrown (keys: ${Object.keys(err).slice(0, 10).join(", ")})`,
    retryable: true,
  };
}

function fromResponse(status: number, body: unknown, headers?: unknown, fallback?: string): KubeError {
  const parsed = typeof body === "string" ? tryParseJson(body) : body;
  const s = isRecord(parsed) && parsed.kind === "Status" ? parsed : undefined;
  const reason = (s && stringField(s, "reason")) || REASON_BY_STATUS[status];
  const text = typeof body === "string" && !s ? body.trim() : undefined;
  const message = (s && stringField(s, "message")) || text || fallback || `HTTP ${status}${reason ? ` ${reason}` : ""}`;
  const details = s && isRecord(s.details) ? s.details : undefined;
  const retryAfterSeconds =
    positiveNumber(details?.retryAfterSeconds) ?? positiveNumber(headerValue(headers, "retry-after"));
  return {
    kind: "api",
    status,
    ...(reason ? { reason } : {}),
    message: scrub(message),
    retryable: isRetryableStatus(status, reason),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };
}

function isRetryableStatus(status: number, reason: string | undefined): boolean {
  if (status === 409) return reason !== "AlreadyExists";
  return status === 410 || status === 429 || (status >= 500 && status !== 501);
}

function isNetworkCode(code: string): boolean {
  if (TRANSIENT_ERRNO.has(code) || TLS_CODE.test(code)) return true;
  return code.startsWith("UND_ERR_") && !NOT_NETWORK_UNDICI.has(code) && !ABORT_CODES.has(code);
}

/** Defence in depth: credentials never reach a log line even if a library echoes them. */
function scrub(message: string): string {
  const cleaned = message.replace(/\b(Bearer|Basic)\s+[^\s"',;]+/gi, "$1 [redacted]");
  return cleaned.length > MAX_MESSAGE ? `${cleaned.slice(0, MAX_MESSAGE)}…` : cleaned;
}

/** Not frozen: pino's err serializer tags the objects it logs. */
function brand(e: KubeError): KubeError {
  return Object.defineProperty({ ...e }, NORMALIZED, { value: true, enumerable: false });
}

function headerValue(headers: unknown, name: string): unknown {
  return isRecord(headers) ? headers[name] : undefined;
}

function positiveNumber(v: unknown): number | undefined {
  const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
}

function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function stringField(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  return typeof v === "string" ? v : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}
