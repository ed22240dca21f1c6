// What the API shows of an execution: never the address in clear (masked), never a MAC.
// Public ids carry the namespace ("<namespace>.<32 hex>"), so any replica finds the Secret
// with one read.
import { maskAddress } from "../email/address.ts";
import type { ExecutionView } from "../http/schemas.ts";
import type { ExecutionData } from "./types.ts";

export const PUBLIC_ID = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([0-9a-f]{32})$/;

export const publicId = (namespace: string, id: string): string => `${namespace}.${id}`;

export function parsePublicId(value: string): { namespace: string; id: string } | undefined {
  const m = PUBLIC_ID.exec(value);
  return m && m[1] && m[3] && m[1].length <= 63 ? { namespace: m[1], id: m[3] } : undefined;
}

export interface ViewContext {
  codeLength: number;
  resendCooldownSeconds: number;
  token?: string;
}

export function toView(e: ExecutionData, ctx: ViewContext): ExecutionView {
  const view: ExecutionView = {
    id: publicId(e.namespace, e.id),
    namespace: e.namespace,
    flow: e.flow,
    state: e.state,
    expiresAt: e.expiresAt,
  };
  if (e.state === "email_required") view.challenge = { type: "email", stage: e.stage };
  if ((e.state === "code_sent" || e.state === "send_failed") && e.address) {
    // A failed send starts no cooldown: without a send on record a resend is possible at once.
    const resendAvailableAt = e.lastSentAt
      ? new Date(Date.parse(e.lastSentAt) + ctx.resendCooldownSeconds * 1000).toISOString()
      : e.createdAt;
    view.challenge = {
      type: "code",
      stage: e.stage,
      maskedEmail: maskAddress(e.address),
      ...(e.state === "code_sent" && e.codeExpiresAt ? { expiresAt: e.codeExpiresAt } : {}),
      codeLength: ctx.codeLength,
      resendAvailableAt,
    };
  }
  if (e.denial) view.denial = e.denial;
  if (e.result) view.result = e.result;
  if (ctx.token) view.token = ctx.token;
  return view;
}
