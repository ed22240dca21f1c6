// Every problem code the API (or the pages themselves) can answer becomes a message the user
// can act on, shown next to the field of the form that was sent. Reasons that would tell the
// user more than the API tells an execution-token holder are never shown (no enumeration).
import type { MessageKey, Translator } from "../i18n/catalogue.ts";
import { en } from "../i18n/en.ts";

/** The form a problem answers; "page" when it is not about one field. */
export type Field = "email" | "code" | "resend" | "page";

export interface PageProblem {
  code: string;
  /** Seconds. */
  retryAfter?: number | undefined;
  attemptsLeft?: number | undefined;
  retryAt?: string | undefined;
}

export interface ShownProblem {
  field: Field;
  text: string;
}

/** Problems about the request or the service, not about what the user typed. */
const PAGE_LEVEL = new Set([
  "invalid_request",
  "payload_too_large",
  "unsupported_media_type",
  "unauthorized",
  "forbidden",
  "not_found",
  "conflict",
  "device_exists",
  "stage_not_ready",
  "internal_error",
  "csrf",
]);

const minutesUntil = (iso: string | undefined, now: Date, fallbackSeconds?: number): number => {
  const ms = iso ? Date.parse(iso) - now.getTime() : (fallbackSeconds ?? 60) * 1000;
  return Math.max(1, Math.ceil(ms / 60_000));
};

export function describeProblem(
  p: PageProblem,
  field: Exclude<Field, "page">,
  translator: Translator,
  now: Date,
): ShownProblem {
  const { t } = translator;
  const at: Field = PAGE_LEVEL.has(p.code) ? "page" : field;
  const seconds = Math.max(1, p.retryAfter ?? 1);
  switch (p.code) {
    case "invalid_code":
      return {
        field: at,
        text:
          p.attemptsLeft !== undefined && p.attemptsLeft <= 0
            ? t("problem.invalid_code_none")
            : t("problem.invalid_code", { count: p.attemptsLeft ?? 1 }),
      };
    case "too_many_attempts":
      return {
        field: at,
        text: p.retryAt
          ? t("problem.too_many_attempts_until", { count: minutesUntil(p.retryAt, now) })
          : t("problem.too_many_attempts"),
      };
    case "send_limit":
      return { field: at, text: t("problem.send_limit", { count: minutesUntil(p.retryAt, now, p.retryAfter) }) };
    case "resend_cooldown":
      return { field: at, text: t("problem.resend_cooldown", { seconds }) };
    case "rate_limited":
      return { field: "page", text: t("problem.rate_limited", { seconds }) };
    default: {
      const key = `problem.${p.code}`;
      // An unknown code still gets a truthful, generic message.
      return { field: at, text: t(isPlainKey(key) ? key : "problem.internal_error") };
    }
  }
}

const isPlainKey = (key: string): key is MessageKey =>
  Object.hasOwn(en, key) && typeof en[key as MessageKey] === "string";
