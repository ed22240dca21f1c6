// RFC 9457 problem documents with stable, machine-readable codes. Handlers throw a Problem;
// the error middleware renders it. Nothing secret goes into a detail.

export const PROBLEM_CODES = {
  invalid_request: { status: 400, title: "The request is not valid" },
  invalid_email: { status: 400, title: "The email address is not accepted" },
  email_required: { status: 400, title: "An email address is needed first" },
  invalid_code: { status: 400, title: "The code is not correct" },
  code_used: { status: 409, title: "The code was already used" },
  code_expired: { status: 410, title: "The code has expired" },
  too_many_attempts: { status: 429, title: "Too many attempts" },
  resend_cooldown: { status: 429, title: "A code was sent moments ago" },
  send_limit: { status: 429, title: "Too many codes were sent to this address" },
  rate_limited: { status: 429, title: "Too many requests" },
  unauthorized: { status: 401, title: "Authentication is required" },
  forbidden: { status: 403, title: "Not allowed" },
  not_found: { status: 404, title: "Not found" },
  conflict: { status: 409, title: "The execution is not in a state that accepts this" },
  device_exists: { status: 409, title: "The user already has an email device for this stage" },
  payload_too_large: { status: 413, title: "The request body is too large" },
  unsupported_media_type: { status: 415, title: "Send application/json" },
  stage_not_ready: { status: 503, title: "The flow's stage is not ready" },
  smtp_unavailable: { status: 503, title: "The email could not be sent" },
  internal_error: { status: 500, title: "Internal error" },
} as const;

export type ProblemCode = keyof typeof PROBLEM_CODES;

export class Problem extends Error {
  override readonly name = "Problem";
  readonly code: ProblemCode;
  readonly status: number;
  readonly extensions: Record<string, unknown>;
  /** Seconds, sent as the Retry-After header too. */
  readonly retryAfter: number | undefined;

  constructor(code: ProblemCode, detail: string, extensions: Record<string, unknown> = {}, retryAfter?: number) {
    super(detail);
    this.code = code;
    this.status = PROBLEM_CODES[code].status;
    this.extensions = extensions;
    this.retryAfter = retryAfter;
  }

  body(instance?: string): Record<string, unknown> {
    return {
      type: `https://emailauth.dev/problems/${this.code.replaceAll("_", "-")}`,
      title: PROBLEM_CODES[this.code].title,
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(instance ? { instance } : {}),
      ...(this.retryAfter !== undefined ? { retryAfter: this.retryAfter } : {}),
      ...this.extensions,
    };
  }
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
