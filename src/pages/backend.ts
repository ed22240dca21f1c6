// What the hosted pages need from the executions, in page terms. The operator implements it
// over the execution service; the pages know nothing of Secrets or Kubernetes.
import type { Branding } from "./branding.ts";
import type { PageProblem } from "./problem-messages.ts";

export interface PageExecution {
  /** Public execution id. */
  id: string;
  state: "email_required" | "code_sent" | "send_failed" | "completed" | "denied";
  /** The current stage's friendlyName (or name). */
  title: string;
  branding: Branding;
  /** The user's locale as the application gave it (BCP 47), if any. */
  locale?: string | undefined;
  maskedEmail?: string | undefined;
  codeLength?: number | undefined;
  codeExpiresAt?: string | undefined;
  resendAvailableAt?: string | undefined;
  denial?: { code: string } | undefined;
  /** Checked against the flow's allow-list at start. */
  returnTo?: string | undefined;
  /** The signed result, once completed. */
  resultToken?: string | undefined;
  expiresAt: string;
}

export type PageOutcome =
  | { ok: true; execution: PageExecution }
  /** `execution` when the problem leaves the execution usable and the page can show it again. */
  | { ok: false; problem: PageProblem; execution?: PageExecution | undefined };

export type PageInput = { email: string } | { code: string } | { resend: true };

export interface PageBackend {
  /** Redeems a launch token for a page session; one winner per token. */
  launch(
    id: string,
    launchToken: string,
    sessionSecret: string,
  ): Promise<{ ok: true; expiresAt: string } | { ok: false }>;
  /** `execution_expired` and `not_found` are problems like the API's. */
  load(id: string, sessionSecret: string): Promise<PageOutcome>;
  submit(id: string, sessionSecret: string, input: PageInput): Promise<PageOutcome>;
}
