// Sending a code: limits first, then a fresh code whose MAC replaces the previous challenge,
// then the mail. A failed send leaves no valid code, keeps the execution usable for a resend,
// and is recorded in a metric and an Event on the stage.
import type { Logger } from "pino";
import { composeCodeMessage } from "../email/compose.ts";
import { addressKey, maskAddress } from "../email/address.ts";
import type { Mailer, SmtpSendReason } from "../email/mailer.ts";
import { SmtpSendError } from "../email/mailer.ts";
import type { EventRecorder } from "@emailauth/operator-runtime";
import type { Clock } from "@emailauth/operator-runtime";
import type { StageContext } from "../stage/stage-directory.ts";
import { codeMac, generateCode } from "./codes.ts";
import type { ExecutionRecords } from "./execution-records.ts";
import { refuse } from "./outcomes.ts";
import type { Throttles } from "./throttle.ts";
import type { ExecutionData, Stored } from "./types.ts";

export interface SendMetrics {
  onEmailSent(namespace: string, stage: string): void;
  onEmailSendFailure(namespace: string, stage: string, reason: string): void;
}

export interface SenderDeps {
  store: ExecutionRecords;
  throttles: Throttles;
  key: () => Promise<Buffer>;
  mailer: Mailer;
  events: EventRecorder;
  metrics: SendMetrics;
  clock: Clock;
  log: Logger;
}

/** The mail went out, or the relay refused it and the execution (send_failed) awaits a resend. */
export type SendResult =
  | { sent: true; stored: Stored<ExecutionData> }
  | { sent: false; reason: SmtpSendReason; stored: Stored<ExecutionData> };

/** Sends a new code for `stored` to `address` (normalised). Refuses with send_limit. */
export async function sendCode(
  d: SenderDeps,
  stored: Stored<ExecutionData>,
  stage: StageContext,
  address: string,
  addressFixed: boolean,
): Promise<SendResult> {
  const e = stored.data;
  const now = d.clock.now();
  const key = addressKey(address);
  const perHour = stage.spec.limits.sendsPerAddressPerHour;
  if ((await d.throttles.sends({ namespace: e.namespace, addressKey: key })) >= perHour) {
    const retryAt = await d.throttles.sendRetryAt({ namespace: e.namespace, addressKey: key }, perHour);
    refuse({ kind: "send_limit", perHour, retryAt });
  }

  const code = generateCode(stage.spec.codeLength);
  const expiresAt = new Date(now.getTime() + stage.spec.tokenExpiry * 60_000);
  const mac = codeMac(await d.key(), { executionId: e.id, stage: stage.name, addressKey: key, code });
  await d.store.putChallenge(
    e.namespace,
    {
      executionId: e.id,
      stage: stage.name,
      mac,
      issuedAt: now.toISOString(),
      expiresAt: expiresAt.toISOString(),
      attempts: 0,
    },
    stage.uid,
  );

  const message = composeCodeMessage({
    settings: stage.settings,
    subject: stage.spec.subject,
    to: { address, ...(e.user.name ? { name: e.user.name } : {}) },
    ...(stage.templates ? { templates: stage.templates } : {}),
    values: {
      code,
      expiresInMinutes: stage.spec.tokenExpiry,
      userName: e.user.name ?? e.user.id,
      friendlyName: stage.spec.friendlyName ?? "Email code",
      maskedEmail: maskAddress(address),
    },
  });
  try {
    await d.mailer.send(stage.settings, message);
  } catch (err) {
    const reason = err instanceof SmtpSendError ? err.reason : "ConnectionFailed";
    const detail = err instanceof SmtpSendError ? err.message : "the mail could not be handed to the relay";
    await d.store.deleteChallenge(e.namespace, e.id);
    const failed = await d.store.updateExecution(stored, {
      ...e,
      state: "send_failed",
      address,
      addressFixed,
      codeExpiresAt: undefined,
    });
    d.metrics.onEmailSendFailure(e.namespace, stage.name, reason);
    d.log.warn({ namespace: e.namespace, stage: stage.name, reason }, "sending a code failed");
    await d.events.record(
      {
        apiVersion: "emailauth.dev/v1alpha1",
        kind: "EmailAuthenticatorStage",
        namespace: e.namespace,
        name: stage.name,
        uid: stage.uid,
      },
      "Warning",
      "EmailSendFailed",
      `${reason}: ${detail}`,
      "SendCode",
    );
    return { sent: false, reason, stored: failed };
  }
  await d.throttles.recordSend({ namespace: e.namespace, addressKey: key });
  d.metrics.onEmailSent(e.namespace, stage.name);
  const sent = await d.store.updateExecution(stored, {
    ...e,
    state: "code_sent",
    address,
    addressFixed,
    sends: e.sends + 1,
    lastSentAt: now.toISOString(),
    codeExpiresAt: expiresAt.toISOString(),
  });
  return { sent: true, stored: sent };
}
