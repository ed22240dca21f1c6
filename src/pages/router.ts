// The hosted pages as an Express router, mounted next to the JSON API on every replica:
//   GET  /pages/launch/{id}?token=…   one-time launch link → session cookie → 303 to the page
//   GET  /pages/x/{id}/               the current step (email, code) or the outcome
//   POST /pages/x/{id}/email|code|resend   form posts (CSRF token, same-origin), then 303 back
//   GET  /pages/assets/pages.css|js   static assets
// Server-rendered; works without JavaScript.
import { readFileSync } from "node:fs";
import express, { type Request, type Response } from "express";
import type { Logger } from "pino";
import { launchUrlPath, newSecret, type RandomBytes, SESSION_PREFIX } from "../hand-off/launch.ts";
import { resultUrl } from "../hand-off/return-to.ts";
import { Problem, PROBLEM_CODES } from "../http/problems.ts";
import { chooseLocale, translator } from "../i18n/catalogue.ts";
import type { PageBackend, PageExecution, PageInput, PageOutcome } from "./backend.ts";
import { DEFAULT_BRANDING, imageOrigins } from "./branding.ts";
import type { SafeHtml } from "./html.ts";
import { describeProblem, type PageProblem } from "./problem-messages.ts";
import { newNonce, pageHeaders } from "./security-headers.ts";
import { CSRF_FIELD, csrfMatches, csrfToken, sessionCookie, sessionSecrets } from "./session-cookie.ts";
import { codePage, emailPage, type FormContext } from "./views/forms.ts";
import { ASSETS_PATH, type PageContext } from "./views/layout.ts";
import { completedPage, deniedPage, errorPage, expiredPage, invalidLinkPage } from "./views/outcomes.ts";

export interface PageRouterOptions {
  backend: PageBackend;
  clock: { now(): Date };
  /** Served over TLS: the session cookie gets Secure. */
  secure: boolean;
  log: Logger;
  random?: RandomBytes;
  /** The public keys that verify signed results, served at /.well-known/jwks.json. */
  jwks?: () => Promise<unknown>;
}

export const PAGES_PREFIX = "/pages";
export const pagePath = (id: string): string => `${PAGES_PREFIX}/x/${encodeURIComponent(id)}/`;
export const launchPath = launchUrlPath;

const COOKIE_GRACE_SECONDS = 600;
const ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\.[0-9a-f]{32}$/;
const ACTIONS = ["email", "code", "resend"] as const;
type Action = (typeof ACTIONS)[number];

/** A plain envelope, so browsers find an icon instead of logging a 404 on every page. */
const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect x="1" y="3" width="14" height="10" rx="1" fill="#52525b"/><path d="M1 4l7 5 7-5" stroke="#fff" fill="none"/></svg>';

const asset = (name: string): string => readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8");

export function pagesRouter(o: PageRouterOptions): express.Router {
  const router = express.Router();
  const css = asset("pages.css");
  const js = asset("pages.js");
  const random = o.random;

  router.get(`${ASSETS_PATH}/pages.css`, (_req, res) => {
    res.set({ "Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff" }).type("text/css").send(css);
  });
  router.get(`${ASSETS_PATH}/favicon.svg`, (_req, res) => {
    res
      .set({ "Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff" })
      .type("image/svg+xml")
      .send(FAVICON);
  });
  router.get(`${ASSETS_PATH}/pages.js`, (_req, res) => {
    res
      .set({ "Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff" })
      .type("text/javascript")
      .send(js);
  });

  const jwks = o.jwks;
  if (jwks)
    router.get("/.well-known/jwks.json", async (_req, res) => {
      // Public keys: any origin may fetch them; short caching so a rotation shows quickly.
      res
        .set({ "Cache-Control": "public, max-age=60", "Access-Control-Allow-Origin": "*" })
        .type("application/jwk-set+json")
        .send(JSON.stringify(await jwks()));
    });

  router.get(`${PAGES_PREFIX}/launch/:id`, async (req: Request<{ id: string }>, res) => {
    const id = req.params.id;
    const token = typeof req.query.token === "string" ? req.query.token : "";
    const session = newSecret(SESSION_PREFIX, random);
    const r = ID.test(id) && token ? await o.backend.launch(id, token, session) : { ok: false as const };
    if (!r.ok) return render(req, res, 400, undefined, (ctx) => invalidLinkPage(ctx));
    // Outlives the execution a little, so a late visit shows "expired" rather than "unusable link".
    const maxAge = (Date.parse(r.expiresAt) - o.clock.now().getTime()) / 1000 + COOKIE_GRACE_SECONDS;
    res.set(pageHeaders({ nonce: newNonce(random) }));
    res.append("Set-Cookie", sessionCookie(session, { path: pagePath(id), secure: o.secure, maxAgeSeconds: maxAge }));
    // A clean URL: the launch token is spent and leaves the address bar.
    res.redirect(303, pagePath(id));
  });

  router.get(`${PAGES_PREFIX}/x/:id/`, async (req: Request<{ id: string }>, res) => {
    const id = req.params.id;
    const found = await withSession(req, id, (s) => o.backend.load(id, s));
    if (!found) return render(req, res, 403, undefined, (ctx) => invalidLinkPage(ctx));
    const { outcome, session } = found;
    const resent = req.query.resent === "1";
    show(req, res, id, session, outcome, undefined, resent);
  });

  router.post(
    `${PAGES_PREFIX}/x/:id/:action`,
    express.urlencoded({ extended: false, limit: "4kb", parameterLimit: 10 }),
    async (req: Request<{ id: string; action: string }>, res) => {
      const { id, action } = req.params;
      if (!(ACTIONS as readonly string[]).includes(action))
        return render(req, res, 404, undefined, (c) => invalidLinkPage(c));
      const body = (req.body ?? {}) as Record<string, unknown>;
      const secrets = sessionSecrets(req.get("cookie"));
      // The token is derived from the session secret; a secret that fits it is the form's session.
      const session = secrets.find((s) => csrfMatches(body[CSRF_FIELD], s, id));
      if (!session || !sameOrigin(req)) {
        const current = secrets[0] ? await o.backend.load(id, secrets[0]) : undefined;
        if (!current?.ok) return render(req, res, 403, undefined, (ctx) => invalidLinkPage(ctx));
        return show(req, res, id, secrets[0] ?? "", current, {
          problem: { code: "csrf" },
          field: action as Action,
          status: 403,
        });
      }
      const input = pageInput(action as Action, body);
      const outcome = await o.backend.submit(id, session, input);
      if (outcome.ok) {
        const e = outcome.execution;
        if (e.state === "completed" && e.returnTo && e.resultToken)
          return res.redirect(303, resultUrl(e.returnTo, { result: e.resultToken }));
        return res.redirect(303, action === "resend" ? `${pagePath(id)}?resent=1` : pagePath(id));
      }
      const status = problemStatus(outcome.problem.code);
      if (outcome.problem.retryAfter !== undefined) res.set("Retry-After", String(outcome.problem.retryAfter));
      // The problem left the execution as it was: show the same step with the message.
      const current = outcome.execution
        ? { ok: true as const, execution: outcome.execution }
        : await o.backend.load(id, session);
      show(
        req,
        res,
        id,
        session,
        current,
        { problem: outcome.problem, field: action as Action, status },
        false,
        formValue(body, action),
      );
    },
  );

  async function withSession(
    req: Request,
    id: string,
    load: (session: string) => Promise<PageOutcome>,
  ): Promise<{ outcome: PageOutcome; session: string } | undefined> {
    if (!ID.test(id)) return undefined;
    let last: { outcome: PageOutcome; session: string } | undefined;
    for (const session of sessionSecrets(req.get("cookie"))) {
      const outcome = await load(session);
      last = { outcome, session };
      if (outcome.ok || outcome.problem.code === "execution_expired") return last;
    }
    return last;
  }

  function show(
    req: Request,
    res: Response,
    id: string,
    session: string,
    outcome: PageOutcome,
    failed?: { problem: PageProblem; field: Action; status: number },
    resent = false,
    value = "",
  ): void {
    if (!outcome.ok) {
      const code = outcome.problem.code;
      if (code === "execution_expired" || code === "code_expired")
        return render(req, res, 410, undefined, (ctx) => expiredPage(ctx, undefined));
      if (["not_found", "unauthorized", "forbidden"].includes(code))
        return render(req, res, 403, undefined, (ctx) => invalidLinkPage(ctx));
      if (outcome.problem.retryAfter !== undefined) res.set("Retry-After", String(outcome.problem.retryAfter));
      return render(req, res, problemStatus(code), undefined, (ctx) =>
        errorPage(ctx, describeProblem(outcome.problem, "code", ctx.tr, o.clock.now()).text),
      );
    }
    const e = outcome.execution;
    const status = failed?.status ?? 200;
    const back = (error: string) => (e.returnTo ? resultUrl(e.returnTo, { error }) : undefined);
    if (e.state === "completed")
      return render(req, res, status, e, (ctx) =>
        completedPage(ctx, e.returnTo && e.resultToken ? resultUrl(e.returnTo, { result: e.resultToken }) : undefined),
      );
    if (e.state === "denied")
      return render(req, res, status, e, (ctx) => deniedPage(ctx, e.denial?.code ?? "", back("access_denied")));
    const now = o.clock.now();
    render(req, res, status, e, (ctx) => {
      const form: FormContext = {
        ...ctx,
        csrf: csrfToken(session, id),
        base: pagePath(id),
        problem: failed ? describeProblem(failed.problem, failed.field, ctx.tr, now) : undefined,
      };
      if (e.state === "email_required") return emailPage(form, value);
      const resendAt = e.resendAvailableAt ? Date.parse(e.resendAvailableAt) : 0;
      const codeEnds = e.state === "code_sent" && e.codeExpiresAt ? Date.parse(e.codeExpiresAt) : undefined;
      return codePage(form, {
        maskedEmail: e.maskedEmail ?? "",
        codeLength: e.codeLength ?? 6,
        minutesLeft: codeEnds !== undefined ? Math.max(1, Math.ceil((codeEnds - now.getTime()) / 60_000)) : undefined,
        resendInSeconds: Math.max(0, Math.ceil((resendAt - now.getTime()) / 1000)),
        sendFailed: e.state === "send_failed",
        resent: resent && !failed,
      });
    });
  }

  function render(
    req: Request,
    res: Response,
    status: number,
    e: PageExecution | undefined,
    page: (ctx: PageContext) => SafeHtml,
  ): void {
    const nonce = newNonce(random);
    const branding = e?.branding ?? DEFAULT_BRANDING;
    const tr = translator(chooseLocale(req.get("accept-language"), e?.locale));
    const formTargets = e?.returnTo ? [new URL(e.returnTo).origin] : [];
    res
      .status(status)
      .set(pageHeaders({ nonce, imageOrigins: imageOrigins(branding), formTargets }))
      .set("Content-Language", tr.locale)
      .set("Vary", "Accept-Language, Cookie")
      .type("html")
      .send(`${page({ tr, nonce, branding, title: e?.title ?? branding.productName }).value}\n`);
  }

  router.use(PAGES_PREFIX, (req, res) => render(req, res, 404, undefined, (ctx) => invalidLinkPage(ctx)));
  // Express 5 passes rejected handlers here; a page, not a JSON problem, and nothing internal shown.
  router.use(PAGES_PREFIX, (err: unknown, req: Request, res: Response, _next: express.NextFunction) => {
    // The API's own refusals (rate limits) arrive as Problems: the same status, as a page.
    if (err instanceof Problem && err.status < 500) {
      if (err.retryAfter !== undefined) res.set("Retry-After", String(err.retryAfter));
      const problem = { code: err.code, retryAfter: err.retryAfter };
      return render(req, res, err.status, undefined, (ctx) =>
        errorPage(ctx, describeProblem(problem, "code", ctx.tr, o.clock.now()).text),
      );
    }
    o.log.error({ err, path: req.path }, "page request failed");
    render(req, res, 500, undefined, (ctx) => errorPage(ctx, ctx.tr.t("problem.internal_error")));
  });
  return router;
}

function pageInput(action: Action, body: Record<string, unknown>): PageInput {
  if (action === "resend") return { resend: true };
  const value = typeof body[action] === "string" ? body[action] : "";
  // A pasted code may carry spaces or dashes; the API takes digits only.
  return action === "email" ? { email: value } : { code: value.replace(/[\s-]/g, "") };
}

function formValue(body: Record<string, unknown>, action: string): string {
  return action === "email" && typeof body.email === "string" ? body.email.slice(0, 254) : "";
}

function problemStatus(code: string): number {
  return (
    (PROBLEM_CODES as Record<string, { status: number }>)[code]?.status ?? (code === "execution_expired" ? 410 : 400)
  );
}

/**
 * Defence in depth next to the token: the browser says where a form post comes from. With
 * Referrer-Policy no-referrer, Chrome sends `Origin: null` for our own posts, so Sec-Fetch-Site
 * decides when present, and only a concrete foreign Origin refuses otherwise.
 */
function sameOrigin(req: Request): boolean {
  const site = req.get("sec-fetch-site");
  if (site) return site === "same-origin" || site === "none";
  const origin = req.get("origin");
  if (!origin || origin === "null") return true;
  try {
    return new URL(origin).host === req.get("host");
  } catch {
    return false;
  }
}
