// The records behind a flow execution, as stored in Secrets (see docs/design/2026-11-27-flow-executions.md).
// zod validates what is read back, so a hand-edited or truncated Secret is an error, not a crash.
import { z } from "zod";
import { executionIdSchema } from "./ids.ts";

/** send_failed: an address is known but the last mail did not go out; a resend may work. */
export const EXECUTION_STATES = ["email_required", "code_sent", "send_failed", "completed", "denied"] as const;
export type ExecutionState = (typeof EXECUTION_STATES)[number];

export const executionUser = z.strictObject({
  id: z.string().min(1).max(256),
  name: z.string().max(256).optional(),
  /** Normalised (punycode domain), when the application knew it. */
  email: z.string().max(254).optional(),
});
export type ExecutionUser = z.infer<typeof executionUser>;

export const executionResult = z.strictObject({
  user: z.string(),
  stage: z.string(),
  device: z.string(),
  maskedEmail: z.string(),
  verifiedAt: z.string(),
});
export type ExecutionResult = z.infer<typeof executionResult>;

/**
 * The pending code, inside the execution record: one guarded write replaces it (a resend, which
 * also takes the cooldown), counts an attempt on it, or consumes it (success), so none of these
 * can interleave.
 */
export const challengeData = z.strictObject({
  /** Increases with every code issued for this execution; tells a replaced code from a used one. */
  seq: z.int().min(1),
  /** base64 HMAC-SHA-256; never the code. */
  mac: z.string(),
  issuedAt: z.string(),
  expiresAt: z.string(),
  attempts: z.int().min(0),
});
export type ChallengeData = z.infer<typeof challengeData>;

export const executionData = z.strictObject({
  id: executionIdSchema,
  namespace: z.string(),
  flow: z.string(),
  /** Index into the flow's bindings, ordered by `order` then name. */
  position: z.int().min(0),
  binding: z.string(),
  stage: z.string(),
  /** Setup or Authenticate; Authenticate may turn into Setup when the user has no device. */
  mode: z.enum(["Setup", "Authenticate"]),
  user: executionUser,
  /** The application (TokenReview username) that started the execution. */
  client: z.string(),
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/),
  state: z.enum(EXECUTION_STATES),
  /** Where the current code went; normalised. */
  address: z.string().max(254).optional(),
  /** The address came from the application (or a device), so the user may not replace it. */
  addressFixed: z.boolean().default(false),
  sends: z.int().min(0).default(0),
  lastSentAt: z.string().optional(),
  /** The pending code, while state is code_sent. */
  challenge: challengeData.optional(),
  /** The seq of the code that completed this execution's last step: a late twin learns it was used. */
  usedSeq: z.int().min(1).optional(),
  /** How many codes were issued (the next challenge's seq is one more). */
  issued: z.int().min(0).optional(),
  /**
   * No code can complete this step, but the end user is shown an ordinary code step (sends are
   * only pretended), so the execution token does not tell whether the user has a device. The
   * application sees the denial.
   */
  decoy: z.strictObject({ code: z.string(), detail: z.string() }).optional(),
  denial: z.strictObject({ code: z.string(), detail: z.string() }).optional(),
  result: executionResult.optional(),
  createdAt: z.string(),
  expiresAt: z.string(),
  /** Where the hosted pages send the browser at the end; matched against the flow's allow-list at start. */
  returnTo: z.string().max(2048).optional(),
  /** The application's opaque value, echoed in the signed result. */
  clientState: z.string().max(512).optional(),
  /** The user's language as the application gave it (BCP 47), for the pages and the mail. */
  locale: z.string().max(35).optional(),
  /** Browser hand-off (hand-off/launch.ts): SHA-256 hashes only, never the secrets. */
  launchHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  launchExpiresAt: z.string().optional(),
  sessionHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** The signed result (compact JWS) once completed; the pages and the API hand out the same one. */
  resultToken: z.string().max(8192).optional(),
});
export type ExecutionData = z.infer<typeof executionData>;

/** A record with the Secret's identity, for preconditioned writes. */
export interface Stored<T> {
  data: T;
  /** The execution's namespace (its stage's); the Secret itself is in the operator's. */
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  /**
   * The uid of the stage the record is at: a replace carries it along, and a stage deleted and
   * created again under the same name has another, so the record is not continued against it.
   */
  stageUid: string;
}
