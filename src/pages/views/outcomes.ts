// Where a flow ends: completed, denied, expired, or a link that cannot be used.
import { html, type SafeHtml } from "../html.ts";
import { layout, type PageContext } from "./layout.ts";

export function completedPage(ctx: PageContext, continueUrl: string | undefined): SafeHtml {
  const { t } = ctx.tr;
  return layout(
    ctx,
    t("completed.heading"),
    html`<p role="status">${t("completed.body")}</p>
      ${
        continueUrl
          ? html`<p><a class="button primary" href="${continueUrl}">${t("completed.continue")}</a></p>`
          : html`<p>${t("completed.close")}</p>`
      }`,
  );
}

export function deniedPage(ctx: PageContext, denialCode: string, backUrl: string | undefined): SafeHtml {
  const { t } = ctx.tr;
  const message =
    denialCode === "no_device"
      ? t("denied.no_device")
      : denialCode === "device_exists"
        ? t("denied.device_exists")
        : t("denied.other");
  return layout(
    ctx,
    t("denied.heading"),
    html`<p role="alert">${message}</p>
      ${back(ctx, backUrl)}`,
  );
}

export function expiredPage(ctx: PageContext, backUrl: string | undefined): SafeHtml {
  const { t } = ctx.tr;
  return layout(
    ctx,
    t("expired.heading"),
    html`<p role="alert">${t("expired.body")}</p>
      ${back(ctx, backUrl)}`,
  );
}

/** A problem that is not about a form field: the service is busy, not ready, or failed. */
export function errorPage(ctx: PageContext, text: string): SafeHtml {
  return layout(ctx, ctx.tr.t("page.errorSummary"), html`<p role="alert">${text}</p>`);
}

export function invalidLinkPage(ctx: PageContext): SafeHtml {
  const { t } = ctx.tr;
  return layout(ctx, t("invalidLink.heading"), html`<p role="alert">${t("invalidLink.body")}</p>`);
}

function back(ctx: PageContext, url: string | undefined): SafeHtml {
  return url
    ? html`<p><a class="button secondary" href="${url}">${ctx.tr.t("page.backToApplication")}</a></p>`
    : html``;
}
