// The execution domain's refusals as RFC 9457 problem documents: status, stable code, a detail
// a person can act on, and Retry-After in whole seconds where waiting helps. The only place
// that knows both sides.
import type { Clock } from "@emailauth/operator-runtime";
import type { ExecutionError } from "../executions/outcomes.ts";
import { Problem } from "./problems.ts";
import { toView } from "./view.ts";

/** Seconds until `at`, at least 1 (a Retry-After of 0 invites a busy loop). */
export const secondsUntil = (at: Date, clock: Clock): number =>
  Math.max(1, Math.ceil((at.getTime() - clock.now().getTime()) / 1000));

/** How long to wait after a failed send before the relay is worth another try. */
const SEND_FAILED_RETRY_SECONDS = 30;
/** A request that lost every round against concurrent ones: soon it will not. */
const BUSY_RETRY_SECONDS = 1;
/** When the per-address window's end is unknown, its length. */
const SEND_WINDOW_SECONDS = 3600;

export function problemFor(error: ExecutionError, clock: Clock): Problem {
  switch (error.kind) {
    case "not_found":
      return new Problem("not_found", "no such execution");
    case "forbidden":
      return new Problem(
        "forbidden",
        "only the application that started the execution (or the execution token) may use it",
      );
    case "flow_not_found":
      return new Problem("not_found", error.detail);
    case "stage_not_ready":
      return new Problem("stage_not_ready", error.detail);
    case "execution_expired":
      return new Problem("code_expired", "the execution has expired; start a new one");
    case "finished":
      return new Problem("conflict", `the execution is ${error.state}`);
    case "address_fixed":
      return new Problem("conflict", "the address of this execution is already set");
    case "invalid_email":
      return new Problem("invalid_email", error.reason);
    case "return_to_refused":
      return new Problem("invalid_request", `returnTo is not allowed: ${error.reason}`);
    case "email_required":
      return new Problem("email_required", "send an email address first");
    case "no_code_pending":
      return new Problem("invalid_code", "no code is pending; ask for a resend", { attemptsLeft: 0 });
    case "invalid_code":
      return new Problem(
        "invalid_code",
        `the code is not correct; ${error.attemptsLeft} attempt(s) left for this code`,
        { attemptsLeft: error.attemptsLeft },
      );
    case "code_used":
      return new Problem("code_used", "the code was right, but it was already used by another request");
    case "code_replaced":
      return new Problem("code_expired", "a newer code was sent meanwhile; use the code from the newest mail");
    case "code_expired":
      return new Problem("code_expired", "the code has expired; ask for a resend");
    case "busy":
      return new Problem("conflict", "the execution changed while this request ran; try again", {}, BUSY_RETRY_SECONDS);
    case "code_spent":
      return new Problem("too_many_attempts", "too many wrong codes for this code; ask for a resend");
    case "failure_limit":
      return new Problem(
        "too_many_attempts",
        "too many wrong codes; try again later",
        { retryAt: error.retryAt.toISOString() },
        secondsUntil(error.retryAt, clock),
      );
    case "resend_cooldown":
      return new Problem(
        "resend_cooldown",
        "a code was sent moments ago; wait before asking for another",
        { retryAt: error.retryAt.toISOString() },
        secondsUntil(error.retryAt, clock),
      );
    case "send_limit":
      return new Problem(
        "send_limit",
        `at most ${error.perHour} codes per hour go to one address`,
        error.retryAt ? { retryAt: error.retryAt.toISOString() } : {},
        error.retryAt ? secondsUntil(error.retryAt, clock) : SEND_WINDOW_SECONDS,
      );
    case "send_failed":
      return new Problem(
        "smtp_unavailable",
        error.reason
          ? `the code could not be sent (${error.reason}); ask for a resend later`
          : "the code could not be sent; ask for a resend later",
        { execution: toView(error.execution, error.token) },
        SEND_FAILED_RETRY_SECONDS,
      );
  }
}
