// Request and response bodies of the HTTP API. The same zod schemas validate requests and
// generate /openapi.json, so the document cannot drift from what the server accepts.
import { z } from "zod";
import { displayText } from "../kinds/v1alpha1/common.ts";
import { CODE_PATTERN } from "../executions/codes.ts";
import { EXECUTION_STATES } from "../executions/types.ts";
import { PROBLEM_CODES } from "./problems.ts";

export const startExecutionRequest = z
  .strictObject({
    user: z.strictObject({
      id: displayText(256).min(1).meta({ description: "The user's id in the calling application." }),
      // No length cap here: parseAddress answers invalid_email for any bad address, long ones included.
      email: z
        .string()
        .optional()
        .meta({ description: "The user's address, when the application knows it; checked by the strict allow-list." }),
      name: displayText(256).optional().meta({ description: "Display name for the email greeting." }),
      locale: z
        .string()
        .max(35)
        .regex(/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/, "a BCP 47 language tag such as de or en-GB")
        .optional()
        .meta({ description: "The user's language for the hosted pages and the mail; Accept-Language otherwise." }),
    }),
    returnTo: z.string().max(2048).optional().meta({
      description:
        "Where the hosted pages send the browser at the end, with the signed result (?result=…). Must match the flow's allow-list (FlowBinding spec.pages.allowedReturnTo) exactly.",
    }),
    state: z
      .string()
      .regex(/^[\x20-\x7e]{1,512}$/, "1 to 512 printable ASCII characters")
      .optional()
      .meta({ description: "Opaque to the operator; echoed in the signed result's state claim." }),
  })
  .meta({ id: "StartExecutionRequest" });

export const submitRequest = z
  .strictObject({
    email: z
      .string()
      .optional()
      .meta({ description: "The address to send a code to, when the execution asks for one." }),
    code: z.string().regex(CODE_PATTERN, "a code is a string of digits").optional(),
    resend: z.literal(true).optional().meta({ description: "Send a new code; the previous one stops working." }),
  })
  .refine(
    (b) => [b.email, b.code, b.resend].filter((v) => v !== undefined).length === 1,
    "send exactly one of email, code or resend",
  )
  .meta({ id: "SubmitRequest" });

export const challenge = z
  .discriminatedUnion("type", [
    z.strictObject({ type: z.literal("email"), stage: z.string() }),
    z.strictObject({
      type: z.literal("code"),
      stage: z.string(),
      maskedEmail: z.string(),
      expiresAt: z.string().optional().meta({
        description: "When the pending code stops working; absent while no code is pending (state send_failed).",
      }),
      codeLength: z.int(),
      resendAvailableAt: z.string(),
    }),
  ])
  .meta({ id: "Challenge" });

export const execution = z
  .strictObject({
    id: z.string(),
    namespace: z.string(),
    flow: z.string(),
    state: z.enum(EXECUTION_STATES),
    challenge: challenge.optional(),
    denial: z.strictObject({ code: z.string(), detail: z.string() }).optional(),
    result: z
      .strictObject({
        user: z.string(),
        stage: z.string(),
        device: z.string(),
        maskedEmail: z.string(),
        verifiedAt: z.string(),
        jws: z.string().optional().meta({
          description:
            "The signed result: a compact JWS (ES256) verifiable with /.well-known/jwks.json; the same token the hosted pages hand to returnTo. Valid for 120 s.",
        }),
      })
      .optional()
      .meta({ description: "Who verified which address, when, through which stage." }),
    expiresAt: z.string(),
    pageUrl: z.string().optional().meta({
      description:
        "Only in the response that created the execution: a one-time launch link (valid 120 s) to send the user's browser to. Absolute when the operator knows its public URL, else relative to the API's URL.",
    }),
    token: z.string().optional().meta({
      description:
        "Only in the response that created the execution: lets the user's browser continue it. Send as `Authorization: Bearer <token>`.",
    }),
  })
  .meta({ id: "Execution" });
export type ExecutionView = z.infer<typeof execution>;

export const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    code: z.enum(Object.keys(PROBLEM_CODES) as [keyof typeof PROBLEM_CODES, ...(keyof typeof PROBLEM_CODES)[]]),
    instance: z.string().optional(),
    retryAfter: z.int().optional(),
    attemptsLeft: z.int().optional(),
    retryAt: z.string().optional(),
    errors: z.array(z.strictObject({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: "Problem" });
