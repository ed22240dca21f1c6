// The embedded Express server, served by every replica. It parses and validates requests,
// works out who is calling, and leaves what an execution does to the ExecutionApi.
import express, { type NextFunction, type Request, type Response } from "express";
import type { Logger } from "pino";
import type { z } from "zod";
import type { AccessReviewer, Caller } from "./auth.ts";
import type { ExecutionRef } from "../executions/ids.ts";
import { openApiDocument } from "./openapi.ts";
import { Problem, PROBLEM_CONTENT_TYPE } from "./problems.ts";
import type { RateLimits } from "./rate-limits.ts";
import { type ExecutionView, startExecutionRequest, submitRequest } from "./schemas.ts";
import { parsePublicId } from "./view.ts";

/** Who a request acts for: an application (Kubernetes identity) or the holder of an execution token. */
export type Principal = { kind: "caller"; caller: Caller } | { kind: "token"; token: string };

export interface ExecutionApi {
  start(
    caller: Caller,
    namespace: string,
    flow: string,
    body: z.infer<typeof startExecutionRequest>,
  ): Promise<ExecutionView>;
  get(ref: ExecutionRef, principal: Principal): Promise<ExecutionView>;
  submit(ref: ExecutionRef, principal: Principal, body: z.infer<typeof submitRequest>): Promise<ExecutionView>;
}

export interface AppOptions {
  executions: ExecutionApi;
  access: AccessReviewer;
  log: Logger;
  /** Request body limit; the largest legitimate body is well under 1 KiB. */
  bodyLimit?: string;
  /** Per address, per execution and for unauthenticated work; none when absent (unit tests). */
  limits?: RateLimits;
  /** Reverse proxies whose X-Forwarded-For names the client (Express "trust proxy"). */
  trustedProxies?: readonly string[];
}

const EXECUTION_TOKEN_PREFIX = "eaox_";
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function createApp(o: AppOptions): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("trust proxy", o.trustedProxies?.length ? [...o.trustedProxies] : false);
  app.set("json spaces", 0);
  // Answers are never cached (no-store), so an ETag (a SHA-1 of every body) would only cost CPU.
  app.set("etag", false);
  if (o.limits) app.use(o.limits.perAddress);
  const limited = <T>(req: Request<{ id: string }>, work: () => Promise<T>): Promise<T> =>
    o.limits ? o.limits.forExecution(req.params.id, req.get("authorization") ?? "", work) : work();
  app.use((req, res, next) => {
    res.set("Cache-Control", "no-store");
    if (req.method === "POST" && !req.is("application/json"))
      return next(new Problem("unsupported_media_type", "send a JSON body with Content-Type: application/json"));
    next();
  });
  app.use(express.json({ limit: o.bodyLimit ?? "8kb", strict: true }));

  app.get("/openapi.json", (_req, res) => res.json(openApiDocument()));

  app.post(
    "/api/v1/namespaces/:namespace/flows/:flow/executions",
    async (req: Request<{ namespace: string; flow: string }>, res) => {
      const { namespace, flow } = req.params;
      if (!NAME.test(namespace) || !NAME.test(flow) || namespace.length > 63 || flow.length > 63)
        throw new Problem("not_found", "no such flow");
      const principal = await principalOf(req, o.access);
      if (principal.kind !== "caller")
        throw new Problem("unauthorized", "starting an execution needs the application's Kubernetes credentials");
      if (!(await o.access.mayExecute(principal.caller, namespace, flow))) {
        throw new Problem(
          "forbidden",
          `${principal.caller.username} may not execute flow ${flow} in namespace ${namespace} (needs verb execute on flows.emailauth.dev)`,
        );
      }
      const body = parse(startExecutionRequest, req.body);
      const started = await o.executions.start(principal.caller, namespace, flow, body);
      o.limits?.knownExecution(started.id);
      res.status(201).json(started);
    },
  );

  app.get("/api/v1/executions/:id", async (req: Request<{ id: string }>, res) => {
    const id = executionId(req.params.id);
    res.json(await limited(req, async () => o.executions.get(id, await principalOf(req, o.access))));
  });

  app.post("/api/v1/executions/:id", async (req: Request<{ id: string }>, res) => {
    const id = executionId(req.params.id);
    res.json(
      await limited(req, async () =>
        o.executions.submit(id, await principalOf(req, o.access), parse(submitRequest, req.body)),
      ),
    );
  });

  app.use((_req, _res, next) => next(new Problem("not_found", "no such resource")));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const problem = toProblem(err);
    if (problem.status >= 500 && problem.code === "internal_error")
      o.log.error({ err, path: req.path }, "request failed");
    if (problem.retryAfter !== undefined) res.set("Retry-After", String(problem.retryAfter));
    if (problem.status === 401) res.set("WWW-Authenticate", bearerChallenge(req));
    res
      .status(problem.status)
      .type(PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify(problem.body(req.path)));
  });
  return app;
}

async function principalOf(req: Request, access: AccessReviewer): Promise<Principal> {
  const header = req.get("authorization") ?? "";
  const match = /^Bearer ([!-~]{1,4096})$/.exec(header);
  if (!match?.[1]) throw new Problem("unauthorized", "send Authorization: Bearer <token>");
  const token = match[1];
  if (token.startsWith(EXECUTION_TOKEN_PREFIX)) return { kind: "token", token };
  const caller = await access.authenticate(token);
  if (!caller) throw new Problem("unauthorized", "the bearer token was not accepted");
  return { kind: "caller", caller };
}

/** RFC 6750 §3: a refused token is `invalid_token`; no token at all gets the bare challenge. */
function bearerChallenge(req: Request): string {
  return req.get("authorization") ? 'Bearer realm="emailauth", error="invalid_token"' : 'Bearer realm="emailauth"';
}

function executionId(id: string): ExecutionRef {
  // Parsed once, here. Malformed and unknown ids look the same from outside.
  const ref = parsePublicId(id);
  if (!ref) throw new Problem("not_found", "no such execution");
  return ref;
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const errors = result.error.issues.map((i) => ({ path: i.path.join(".") || "(body)", message: i.message }));
  throw new Problem("invalid_request", errors.map((e) => `${e.path}: ${e.message}`).join("; "), { errors });
}

function toProblem(err: unknown): Problem {
  if (err instanceof Problem) return err;
  const type = (err as { type?: string }).type;
  if (type === "entity.too.large") return new Problem("payload_too_large", "the request body is too large");
  if (type === "entity.parse.failed") return new Problem("invalid_request", "the body is not valid JSON");
  if (type === "encoding.unsupported" || type === "charset.unsupported")
    return new Problem("unsupported_media_type", "send UTF-8 JSON");
  return new Problem("internal_error", "the request could not be completed");
}
