// The reconcile contract, after controller-runtime's pkg/reconcile: a reconciler is told which
// object to look at, never what happened to it, and reports only when to look again. Retries,
// backoff, metrics and logging context belong to the controller that calls it.
import type { Logger } from "pino";

/** Which object to reconcile. */
export interface Request {
  readonly namespace: string;
  readonly name: string;
}

export interface Result {
  /** Reconcile again after this long even if nothing changes (e.g. when a token expires). */
  readonly requeueAfterMs?: number;
}

export interface ReconcileContext {
  /** Aborted when the controller stops; pass it to API calls so shutdown is not held up. */
  readonly signal: AbortSignal;
  /** Already carries controller, namespace, name and reconcileID. */
  readonly log: Logger;
}

export interface Reconciler {
  /**
   * Brings the object named by `req` to its desired state. Throwing means "retry with backoff";
   * throwing a TerminalError means "retrying will not help until the object changes".
   */
  reconcile(req: Request, ctx: ReconcileContext): Promise<Result>;
}

/**
 * An error that retrying cannot fix (e.g. an invalid reference in the spec): the controller
 * logs it and forgets the key; the next change to the object triggers a new reconcile.
 */
export class TerminalError extends Error {
  override readonly name = "TerminalError";
}

/** The work-queue key of a request: "namespace/name", as client-go's MetaNamespaceKeyFunc. */
export function requestKey(req: Request): string {
  return req.namespace ? `${req.namespace}/${req.name}` : req.name;
}

export function parseRequestKey(key: string): Request {
  const slash = key.indexOf("/");
  return slash < 0 ? { namespace: "", name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
