// What the API shows of an execution, and its public id. Never the address in clear (masked),
// never a MAC or hash. Public ids carry the namespace ("<namespace>.<32 hex>"), so any replica
// finds the Secret with one read; this module is the only one that knows that format.
import { maskAddress } from "../email/address.ts";
import { launchUrlPath } from "../hand-off/launch.ts";
import { EXECUTION_ID_SYNTAX, type ExecutionRef, parseExecutionId } from "../executions/ids.ts";
import type { ExecutionSnapshot } from "../executions/outcomes.ts";
import type { ExecutionView } from "./schemas.ts";

const NAMESPACE_SYNTAX = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const NAMESPACE = new RegExp(`^${NAMESPACE_SYNTAX}$`);
/** For the OpenAPI document; parsing goes through parsePublicId. */
export const PUBLIC_ID_SYNTAX = `^${NAMESPACE_SYNTAX}\\.${EXECUTION_ID_SYNTAX}$`;

export const publicId = (ref: ExecutionRef): string => `${ref.namespace}.${ref.id}`;

/** The reference a public id names, or undefined for anything that cannot be one. */
export function parsePublicId(value: string): ExecutionRef | undefined {
  const dot = value.indexOf(".");
  if (dot < 1 || dot > 63) return undefined;
  const namespace = value.slice(0, dot);
  const id = parseExecutionId(value.slice(dot + 1));
  return id && NAMESPACE.test(namespace) ? { namespace, id } : undefined;
}

/** `publicUrl`: the operator's public base URL; without it pageUrl is relative to the API's URL. */
export interface Launch {
  launchToken: string;
  publicUrl?: string | undefined;
}

export function toView(snapshot: ExecutionSnapshot, token?: string, launch?: Launch): ExecutionView {
  const e = snapshot.record;
  const view: ExecutionView = {
    id: publicId(e),
    namespace: e.namespace,
    flow: e.flow,
    state: e.state,
    expiresAt: e.expiresAt,
  };
  if (e.state === "email_required") view.challenge = { type: "email", stage: e.stage };
  if ((e.state === "code_sent" || e.state === "send_failed") && e.address) {
    view.challenge = {
      type: "code",
      stage: e.stage,
      maskedEmail: maskAddress(e.address),
      ...(e.state === "code_sent" && e.challenge ? { expiresAt: e.challenge.expiresAt } : {}),
      codeLength: snapshot.codeLength,
      resendAvailableAt: snapshot.resendAvailableAt.toISOString(),
    };
  }
  if (e.denial) view.denial = e.denial;
  if (e.result) view.result = { ...e.result, ...(e.resultToken ? { jws: e.resultToken } : {}) };
  if (launch)
    view.pageUrl = `${(launch.publicUrl ?? "").replace(/\/+$/, "")}${launchUrlPath(publicId(e), launch.launchToken)}`;
  if (token) view.token = token;
  return view;
}
