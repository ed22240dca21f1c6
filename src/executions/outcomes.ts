// What the execution domain answers, free of any transport: a snapshot of the execution on
// success, or one typed refusal. The HTTP layer alone turns these into status codes, problem
// documents and Retry-After; nothing here knows of either.
import type { SmtpSendReason } from "../email/mailer.ts";
import type { ExecutionData } from "./types.ts";

/** Who acts on an execution: an application (its Kubernetes identity) or the token's holder. */
export interface Application {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** `session`: the browser on the hosted pages, holding the page session from the launch link. */
export type Actor =
  { kind: "application"; app: Application } | { kind: "token"; token: string } | { kind: "session"; secret: string };

/** May this application run this flow (RBAC, answered by the transport's reviewer). */
export interface AccessCheck {
  mayExecute(app: Application, namespace: string, flow: string): Promise<boolean>;
}

/** An execution as its caller may see it, with the stage facts a view needs. */
export interface ExecutionSnapshot {
  record: ExecutionData;
  codeLength: number;
  /** When a resend is accepted: the cooldown after the last send, or at once after none. */
  resendAvailableAt: Date;
}

export type ExecutionError =
  /** Unknown, or the token does not open it: the two look alike. */
  | { kind: "not_found" }
  /** Another application's execution. */
  | { kind: "forbidden" }
  | { kind: "flow_not_found"; detail: string }
  | { kind: "stage_not_ready"; detail: string }
  | { kind: "execution_expired" }
  | { kind: "finished"; state: "completed" | "denied" }
  | { kind: "address_fixed" }
  | { kind: "invalid_email"; reason: string }
  /** The start request's returnTo is not in the flow's allow-list. */
  | { kind: "return_to_refused"; reason: string }
  | { kind: "email_required" }
  /** No code is pending (none sent, or the last send failed). */
  | { kind: "no_code_pending" }
  | { kind: "invalid_code"; attemptsLeft: number }
  /** The right code, but a concurrent request used it first. */
  | { kind: "code_used" }
  /** The code was replaced by a newer one while this request checked it. */
  | { kind: "code_replaced" }
  | { kind: "code_expired" }
  /** This code had all its attempts; only a resend helps. */
  | { kind: "code_spent" }
  /** The user's wrong codes on this stage in 24 h reached the limit. */
  | { kind: "failure_limit"; retryAt: Date }
  | { kind: "resend_cooldown"; retryAt: Date }
  | { kind: "send_limit"; perHour: number; retryAt: Date | undefined }
  /**
   * The relay did not take the mail; the execution stays usable for a resend. `reason` only for
   * the application: what the relay said is not the end user's to learn.
   */
  | {
      kind: "send_failed";
      reason?: SmtpSendReason;
      execution: ExecutionSnapshot;
      token?: string;
      launchToken?: string;
    }
  /** Too many concurrent changes to this execution or budget; retrying soon will work. */
  | { kind: "busy" };

/** `token` and `launchToken` only in the answer that created the execution. */
export type ExecutionOutcome =
  | { ok: true; execution: ExecutionSnapshot; token?: string; launchToken?: string }
  | { ok: false; error: ExecutionError };

/** What a user submits to a running execution. */
export type Submission = { kind: "email"; email: string } | { kind: "code"; code: string } | { kind: "resend" };

/**
 * A refusal raised deep in a step and turned into an outcome at the service's edge; it never
 * leaves the domain as an exception.
 */
export class Refusal extends Error {
  override readonly name = "Refusal";
  readonly error: ExecutionError;

  constructor(error: ExecutionError) {
    super(error.kind);
    this.error = error;
  }
}

export function refuse(error: ExecutionError): never {
  throw new Refusal(error);
}
