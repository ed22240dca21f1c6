// /openapi.json, generated from the zod schemas that validate the requests.
import { z } from "zod";
import { PUBLIC_ID_SYNTAX } from "./view.ts";
import { execution, problem, startExecutionRequest, submitRequest } from "./schemas.ts";

const json = (schema: z.ZodType) => ({
  "application/json": { schema: z.toJSONSchema(schema, { target: "openapi-3.0", io: "input" }) },
});
const problems = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      String(s),
      {
        description: "Problem document (RFC 9457)",
        content: { "application/problem+json": { schema: z.toJSONSchema(problem, { target: "openapi-3.0" }) } },
      },
    ]),
  );

export function openApiDocument(): Record<string, unknown> {
  const executionOut = { description: "The execution", content: json(execution) };
  const id = {
    name: "id",
    in: "path",
    required: true,
    schema: { type: "string", pattern: PUBLIC_ID_SYNTAX },
    description: "`<namespace>.<32 hex>`, as returned when the execution was created",
  };
  return {
    openapi: "3.0.3",
    info: {
      title: "email-authenticator-operator API",
      version: "v1",
      description:
        "Runs flows of email one-time-code stages. Applications authenticate with Kubernetes bearer tokens and need `execute` on `flows.emailauth.dev` (named by flow) in the flow's namespace; the user's side may use the execution token instead.",
    },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths: {
      "/api/v1/namespaces/{namespace}/flows/{flow}/executions": {
        post: {
          summary: "Start an execution of a flow for a user",
          parameters: [
            { name: "namespace", in: "path", required: true, schema: { type: "string" } },
            { name: "flow", in: "path", required: true, schema: { type: "string" } },
          ],
          requestBody: { required: true, content: json(startExecutionRequest) },
          responses: { "201": executionOut, ...problems(400, 401, 403, 404, 409, 413, 415, 429, 503) },
        },
      },
      "/api/v1/executions/{id}": {
        get: {
          summary: "Read an execution",
          parameters: [id],
          responses: { "200": executionOut, ...problems(401, 403, 404) },
        },
        post: {
          summary: "Submit an email address, a code, or ask for a resend",
          parameters: [id],
          requestBody: { required: true, content: json(submitRequest) },
          responses: { "200": executionOut, ...problems(400, 401, 403, 404, 409, 410, 413, 415, 429, 503) },
        },
      },
    },
  };
}
