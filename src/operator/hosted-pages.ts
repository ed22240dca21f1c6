// The hosted pages on every replica, next to the JSON API: the page backend over the execution
// service, the result signer (ES256 keys in a keyring Secret of the operator's namespace), the
// JWKS document, and the branding ConfigMaps flows name.
import type { KeyObject } from "node:crypto";
import type { CoreApi } from "@emailauth/operator-runtime";
import type { Clock, CustomObject, ObjectCache } from "@emailauth/operator-runtime";
import { isNotFound } from "@emailauth/operator-runtime";
import express from "express";
import type { Logger } from "pino";
import type { ExecutionData } from "../executions/types.ts";
import type { ExecutionOutcome } from "../executions/outcomes.ts";
import type { ExecutionService } from "../executions/service.ts";
import { type FlowBindings, flowPages } from "../flows/flow.ts";
import { problemFor } from "../http/execution-problems.ts";
import { parsePublicId, publicId, toView } from "../http/view.ts";
import { KeyringSecret } from "../keyring/keyring-secret.ts";
import type { PageBackend, PageExecution, PageOutcome } from "../pages/backend.ts";
import { type Branding, DEFAULT_BRANDING, parseBranding } from "../pages/branding.ts";
import { pagesRouter } from "../pages/router.ts";
import { ES256_KEY } from "../signing/es256-key.ts";
import { jwksDocument } from "../signing/jwks.ts";
import { CLOCK_TOLERANCE_SECONDS, RESULT_TTL_SECONDS, signResult } from "../signing/result-token.ts";

export const RESULT_KEYS_SECRET = "email-authenticator-result-keys";
/** Without a public URL the issuer is this name; set --public-url in production. */
export const DEFAULT_ISSUER = "urn:emailauth.dev:operator";
const BRANDING_TTL_MS = 30_000;

export interface HostedPagesOptions {
  core: CoreApi;
  operatorNamespace: string;
  stages: ObjectCache<CustomObject>;
  bindings: FlowBindings;
  clock: Clock;
  log: Logger;
  /** The operator's public base URL: the result's issuer and where launch links point. */
  publicUrl?: string | undefined;
  /** Served over TLS: the session cookie gets Secure. */
  secure: boolean;
}

export class HostedPages {
  readonly keys: KeyringSecret<KeyObject>;
  readonly issuer: string;
  readonly publicUrl: string | undefined;
  readonly #o: HostedPagesOptions;
  readonly #branding = new Map<string, { at: number; branding: Branding }>();

  constructor(o: HostedPagesOptions) {
    this.#o = o;
    this.publicUrl = o.publicUrl?.replace(/\/+$/, "");
    this.issuer = this.publicUrl ?? DEFAULT_ISSUER;
    this.keys = new KeyringSecret({
      core: o.core,
      namespace: o.operatorNamespace,
      name: RESULT_KEYS_SECRET,
      kind: ES256_KEY,
      clock: o.clock,
      // The previous key must outlive every token it signed.
      minIntervalSeconds: RESULT_TTL_SECONDS + CLOCK_TOLERANCE_SECONDS + 60,
      warn: (message) => o.log.warn(message),
    });
  }

  /** For ExecutionServiceDeps.signResult. */
  readonly signResult = async (e: ExecutionData): Promise<string> => {
    const ring = await this.keys.get();
    const result = e.result;
    if (!result) throw new Error("only a completed execution has a result to sign");
    return signResult(
      {
        issuer: this.issuer,
        audience: e.client,
        subject: e.user.id,
        namespace: e.namespace,
        flow: e.flow,
        stage: result.stage,
        device: result.device,
        execution: publicId(e),
        state: e.clientState,
        verifiedAt: new Date(result.verifiedAt),
      },
      ring.current,
      this.#o.clock.now(),
    );
  };

  /** The API behind the pages: the pages' routes first, since the API takes only JSON. */
  mount(api: express.Express, service: ExecutionService, before: express.RequestHandler[] = []): express.Express {
    const app = express();
    app.disable("x-powered-by");
    // The API's per-address rate limit covers the pages too.
    for (const handler of before) app.use(handler);
    app.use(this.router(service));
    app.use(api);
    return app;
  }

  router(service: ExecutionService): express.Router {
    return pagesRouter({
      backend: this.#backend(service),
      clock: this.#o.clock,
      secure: this.#o.secure,
      log: this.#o.log.child({ component: "pages" }),
      jwks: async () => jwksDocument(await this.keys.get()),
    });
  }

  #backend(service: ExecutionService): PageBackend {
    const toPage = async (outcome: ExecutionOutcome): Promise<PageOutcome> => {
      if (outcome.ok) return { ok: true, execution: await this.#page(outcome.execution) };
      const error = outcome.error;
      if (error.kind === "execution_expired") return { ok: false, problem: { code: "execution_expired" } };
      const problem = problemFor(error, this.#o.clock);
      const ext = problem.extensions;
      return {
        ok: false,
        problem: {
          code: problem.code,
          retryAfter: problem.retryAfter,
          attemptsLeft: typeof ext.attemptsLeft === "number" ? ext.attemptsLeft : undefined,
          retryAt: typeof ext.retryAt === "string" ? ext.retryAt : undefined,
        },
        execution: error.kind === "send_failed" ? await this.#page(error.execution) : undefined,
      };
    };
    const refOf = (id: string) => parsePublicId(id);
    return {
      launch: async (id, token, session) => {
        const ref = refOf(id);
        return ref ? service.launch(ref, token, session) : { ok: false };
      },
      load: async (id, secret) => {
        const ref = refOf(id);
        if (!ref) return { ok: false, problem: { code: "not_found" } };
        return toPage(await service.get(ref, { kind: "session", secret }));
      },
      submit: async (id, secret, input) => {
        const ref = refOf(id);
        if (!ref) return { ok: false, problem: { code: "not_found" } };
        const submission =
          "email" in input
            ? ({ kind: "email", email: input.email } as const)
            : "code" in input
              ? ({ kind: "code", code: input.code } as const)
              : ({ kind: "resend" } as const);
        return toPage(await service.submit(ref, { kind: "session", secret }, submission));
      },
    };
  }

  async #page(snapshot: Parameters<typeof toView>[0]): Promise<PageExecution> {
    const e = snapshot.record;
    const view = toView(snapshot);
    const code = view.challenge?.type === "code" ? view.challenge : undefined;
    const spec = this.#o.stages.get(e.namespace, e.stage)?.spec as { friendlyName?: unknown } | undefined;
    return {
      id: view.id,
      state: view.state,
      title: typeof spec?.friendlyName === "string" ? spec.friendlyName : e.stage,
      branding: await this.#brandingOf(e.namespace, e.flow),
      locale: e.locale,
      maskedEmail: code?.maskedEmail,
      codeLength: code?.codeLength,
      codeExpiresAt: code?.expiresAt,
      resendAvailableAt: code?.resendAvailableAt,
      denial: view.denial ? { code: view.denial.code } : undefined,
      returnTo: e.returnTo,
      resultToken: e.resultToken,
      expiresAt: e.expiresAt,
    };
  }

  /** The flow's branding ConfigMap, read at most every 30 s; a broken one falls back to the default. */
  async #brandingOf(namespace: string, flow: string): Promise<Branding> {
    const name = flowPages(flow, this.#o.bindings.of(namespace, flow)).brandingConfigMap;
    if (!name) return DEFAULT_BRANDING;
    const key = `${namespace}/${name}`;
    const now = this.#o.clock.now().getTime();
    const hit = this.#branding.get(key);
    if (hit && now - hit.at < BRANDING_TTL_MS) return hit.branding;
    let data: Record<string, string> | undefined;
    try {
      data = (await this.#o.core.readNamespacedConfigMap({ namespace, name })).data;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const parsed = parseBranding(data);
    if (!parsed.ok)
      this.#o.log.warn({ configMap: key, errors: parsed.errors }, "branding ConfigMap refused; using the default");
    const branding = parsed.ok ? parsed.branding : DEFAULT_BRANDING;
    if (this.#branding.size > 1000) this.#branding.clear();
    this.#branding.set(key, { at: now, branding });
    return branding;
  }
}
