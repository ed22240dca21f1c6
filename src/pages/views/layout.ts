// The frame of every hosted page: language, title (the stage's friendlyName), branding,
// our stylesheet and script (the script carries the response's CSP nonce; nothing inline but
// the branding colours, which are validated hex values in a nonce'd style element).
import type { Translator } from "../../i18n/catalogue.ts";
import type { Branding } from "../branding.ts";
import { html, type SafeHtml } from "../html.ts";

export const ASSETS_PATH = "/pages/assets";

export interface PageContext {
  tr: Translator;
  nonce: string;
  branding: Branding;
  /** The stage's friendlyName, or the product name. */
  title: string;
}

export function layout(ctx: PageContext, heading: string, body: SafeHtml): SafeHtml {
  const { tr, branding: b } = ctx;
  return html`<!doctype html>
    <html lang="${tr.locale}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${heading} &#8211; ${ctx.title}</title>
        <link rel="icon" href="${ASSETS_PATH}/favicon.svg" type="image/svg+xml" />
        <link rel="stylesheet" href="${ASSETS_PATH}/pages.css" />
        <style nonce="${ctx.nonce}">
          :root {
            --accent: ${b.accentColor};
            --background: ${b.backgroundColor};
          }
        </style>
        <script src="${ASSETS_PATH}/pages.js" nonce="${ctx.nonce}" defer></script>
      </head>
      <body>
        <div class="page">
          <header class="brand">
            ${
              b.logoUrl
                ? html`<img
                    class="logo"
                    src="${b.logoUrl}"
                    alt="${tr.t("page.logoAlt", { product: b.productName })}"
                  />`
                : ""
            }
            <p class="product">${b.productName}</p>
          </header>
          <main class="card">
            <h1>${ctx.title}</h1>
            <h2>${heading}</h2>
            ${body}
          </main>
          ${
            b.footerLinks.length > 0
              ? html`<footer>
                  <nav aria-label="${tr.t("page.footerLabel")}">
                    <ul>
                      ${b.footerLinks.map((l) => html`<li><a href="${l.url}">${l.text}</a></li>`)}
                    </ul>
                  </nav>
                </footer>`
              : ""
          }
        </div>
      </body>
    </html>`;
}

/** A problem that is not about one field, announced on load. */
export function pageError(text: string | undefined): SafeHtml {
  return text ? html`<p class="error-box" role="alert" id="page-error">${text}</p>` : html``;
}

export function fieldError(id: string, text: string | undefined): SafeHtml {
  return text ? html`<p class="field-error" id="${id}" role="alert">${text}</p>` : html``;
}

export function csrfField(token: string): SafeHtml {
  return html`<input type="hidden" name="csrf" value="${token}" />`;
}
