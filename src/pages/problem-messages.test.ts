import { describe, expect, it } from "vitest";
import { LOCALES, translator } from "../i18n/catalogue.ts";
import { PROBLEM_CODES } from "../http/problems.ts";
import { describeProblem } from "./problem-messages.ts";

const now = new Date("2026-12-01T10:00:00Z");
const en = translator("en");

describe("describeProblem", () => {
  it.each(LOCALES)("has a specific message for every API problem code in %s", (locale) => {
    const t = translator(locale);
    const generic = t.t("problem.internal_error");
    for (const code of Object.keys(PROBLEM_CODES)) {
      const shown = describeProblem({ code, attemptsLeft: 2, retryAfter: 30 }, "code", t, now);
      expect(shown.text, code).not.toMatch(/\{|undefined|problem\./);
      if (code !== "internal_error") expect(shown.text, code).not.toBe(generic);
    }
  });

  it("puts input problems next to the field that was sent, others at the top", () => {
    expect(describeProblem({ code: "invalid_email" }, "email", en, now)).toEqual({
      field: "email",
      text: "Enter a valid email address, like name@example.com.",
    });
    expect(describeProblem({ code: "send_limit", retryAfter: 1800 }, "resend", en, now)).toEqual({
      field: "resend",
      text: "Too many codes were sent to this address. Try again in 30 minutes.",
    });
    expect(describeProblem({ code: "stage_not_ready" }, "code", en, now).field).toBe("page");
    expect(describeProblem({ code: "csrf" }, "code", en, now)).toEqual({
      field: "page",
      text: "The form has expired. Please try again.",
    });
  });

  it("tells attempts left, used-up codes and when to try again", () => {
    expect(describeProblem({ code: "invalid_code", attemptsLeft: 1 }, "code", en, now).text).toBe(
      "That code is not correct. You can try 1 more time.",
    );
    expect(describeProblem({ code: "invalid_code", attemptsLeft: 0 }, "code", en, now).text).toBe(
      "That code is not correct. Ask for a new code.",
    );
    expect(describeProblem({ code: "too_many_attempts", retryAt: "2026-12-01T11:29:01Z" }, "code", en, now).text).toBe(
      "Too many wrong codes. Try again in 90 minutes.",
    );
    expect(describeProblem({ code: "resend_cooldown", retryAfter: 42 }, "resend", en, now).text).toBe(
      "A code was sent moments ago. You can ask for a new one in 42 s.",
    );
  });

  it("answers unknown codes with the generic message", () => {
    expect(describeProblem({ code: "mail.subject" }, "code", en, now).text).toBe(en.t("problem.internal_error"));
    expect(describeProblem({ code: "__proto__" }, "code", en, now).text).toBe(en.t("problem.internal_error"));
  });
});
