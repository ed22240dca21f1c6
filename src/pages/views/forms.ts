// The two forms of a flow: the address (when the application did not give one) and the code.
import { html, type SafeHtml } from "../html.ts";
import type { ShownProblem } from "../problem-messages.ts";
import { csrfField, fieldError, layout, type PageContext, pageError } from "./layout.ts";

export interface FormContext extends PageContext {
  csrf: string;
  /** The execution's page path, ending in "/": forms post to `${base}email` etc. */
  base: string;
  problem?: ShownProblem | undefined;
}

const errorFor = (ctx: FormContext, field: string) => (ctx.problem?.field === field ? ctx.problem.text : undefined);

export function emailPage(ctx: FormContext, value = ""): SafeHtml {
  const { t } = ctx.tr;
  const error = errorFor(ctx, "email");
  return layout(
    ctx,
    t("email.heading"),
    html`${pageError(errorFor(ctx, "page"))}
      <form method="post" action="${ctx.base}email" class="stack">
        ${csrfField(ctx.csrf)}
        <p id="email-hint" class="hint">${t("email.intro")}</p>
        <label for="email">${t("email.label")}</label>
        <input
          id="email"
          name="email"
          type="email"
          autocomplete="email"
          spellcheck="false"
          autocapitalize="none"
          required
          autofocus
          value="${value}"
          aria-describedby="${error ? "email-error email-hint" : "email-hint"}"
          ${error ? html`aria-invalid="true"` : ""}
        />
        ${fieldError("email-error", error)}
        <button type="submit" class="primary">${t("email.submit")}</button>
      </form>`,
  );
}

export interface CodeState {
  maskedEmail: string;
  codeLength: number;
  /** Whole minutes the code stays valid; absent when no code is pending. */
  minutesLeft?: number | undefined;
  /** 0 when a new code may be asked for now. */
  resendInSeconds: number;
  sendFailed: boolean;
  resent: boolean;
}

export function codePage(ctx: FormContext, s: CodeState): SafeHtml {
  const { t } = ctx.tr;
  const codeError = errorFor(ctx, "code");
  const resendError = errorFor(ctx, "resend");
  const waiting = s.resendInSeconds > 0;
  const describedBy = ["code-hint", ...(codeError ? ["code-error"] : [])].join(" ");
  return layout(
    ctx,
    t("code.heading"),
    html`${pageError(errorFor(ctx, "page"))}
      ${s.sendFailed ? html`<p class="error-box" role="alert">${t("code.sendFailed")}</p>` : ""}
      ${s.resent ? html`<p class="notice" role="status">${t("code.resent")}</p>` : ""}
      <form method="post" action="${ctx.base}code" class="stack" id="code-form">
        ${csrfField(ctx.csrf)}
        <p class="intro">${t("code.intro", { length: s.codeLength, email: s.maskedEmail })}</p>
        <label for="code">${t("code.label")}</label>
        <input
          id="code"
          name="code"
          class="code"
          type="text"
          inputmode="numeric"
          autocomplete="one-time-code"
          data-length="${s.codeLength}"
          required
          ${s.sendFailed ? "" : html`autofocus`}
          aria-describedby="${describedBy}"
          ${codeError ? html`aria-invalid="true"` : ""}
        />
        ${fieldError("code-error", codeError)}
        <p id="code-hint" class="hint">
          ${s.minutesLeft !== undefined ? t("code.hint", { count: s.minutesLeft }) : ""}
        </p>
        <button type="submit" class="primary">${t("code.submit")}</button>
      </form>
      <form method="post" action="${ctx.base}resend" class="resend">
        ${csrfField(ctx.csrf)}
        <p
          id="resend-status"
          data-resend-seconds="${s.resendInSeconds}"
          data-template="${t("code.resendIn", { seconds: "{seconds}" })}"
          data-ready="${t("code.resendNow")}"
        >
          ${waiting ? t("code.resendIn", { seconds: s.resendInSeconds }) : t("code.resendNow")}
        </p>
        <p class="visually-hidden" aria-live="polite" id="resend-live"></p>
        ${fieldError("resend-error", resendError)}
        <button
          type="submit"
          class="secondary"
          id="resend-button"
          aria-describedby="resend-status"
          ${waiting ? html`disabled` : ""}
          ${s.sendFailed ? html`autofocus` : ""}
        >
          ${t("code.resend")}
        </button>
      </form>`,
  );
}
