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
    }),
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
      })
      .optional()
      .meta({ description: "Who verified which address, when, through which stage." }),
    expiresAt: z.string(),
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
