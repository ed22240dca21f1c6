// Issuing a code and mailing it, with every budget taken before the act it pays for:
// - the resend cooldown and the replaced code are one guarded write of the execution record
//   (of 50 parallel resends one writes, the others re-read and meet the cooldown);
// - the per-address hourly budget is reserved with a guarded write before the mail goes (at
//   start, before the record exists; later, right after the record's write, which is undone if
//   the budget was gone);
// - a mail the relay did not take gives its budget back and starts no cooldown.
// For the end user (execution token) the answer never depends on what others did or on what the
// relay said about the address: a budget used up by others, a decoy step and a refused recipient
// all look like a sent code, as long as a real send would take.
import type { Logger } from "pino";
import type { Clock, EventTarget } from "@emailauth/operator-runtime";
import { addressKey, maskAddress } from "../email/address.ts";
import { composeCodeMessage } from "../email/compose.ts";
import type { Mailer, SmtpSendReason } from "../email/mailer.ts";
import { SmtpSendError } from "../email/mailer.ts";
import type { StageContext } from "../stage/stage-directory.ts";
import { type CodeKeyring, codeMac, generateCode } from "./codes.ts";
import { ConflictError, type ExecutionRecords } from "./execution-records.ts";
import { refuse } from "./outcomes.ts";
import type { Slot, Throttles } from "./throttle.ts";
import type { ExecutionData, Stored } from "./types.ts";

export interface SendMetrics {
  onEmailSent(namespace: string, stage: string): void;
  onEmailSendFailure(namespace: string, stage: string, reason: string): void;
}

/** Where repeated send failures are reported (an Event series on the stage); best effort. */
export interface SendFailureReporter {
  report(stage: EventTarget, reason: SmtpSendReason, detail: string): Promise<void>;
}

export interface SenderDeps {
  store: ExecutionRecords;
  throttles: Throttles;
  /** The code keyring; with a stored MAC, refreshed if that MAC names a key id not held yet. */
  key: (forMac?: string) => Promise<CodeKeyring>;
  mailer: Mailer;
  failures: SendFailureReporter;
  metrics: SendMetrics;
  timing: SendTiming;
  clock: Clock;
  log: Logger;
}

export interface SendRequest {
  /** The record as read; undefined when the execution is created by this send (start). */
  current: Stored<ExecutionData> | undefined;
  /** The record as it should be apart from the code (position, stage, mode, …). */
  next: ExecutionData;
  stageUid: string;
  stage: StageContext;
  address: string;
  addressFixed: boolean;
  /** The request comes from the end user (execution token): the enumeration rules apply. */
  endUser: boolean;
}

/** The code went out (or, for the end user, looks as if it did), or the relay refused it. */
export type SendResult =
  | { sent: true; stored: Stored<ExecutionData> }
  | { sent: false; reason: SmtpSendReason; stored: Stored<ExecutionData> };

export async function sendCode(d: SenderDeps, r: SendRequest): Promise<SendResult> {
  const started = performance.now();
  const { next, stage, address } = r;
  const now = d.clock.now();
  const perHour = stage.spec.limits.sendsPerAddressPerHour;
  const sendId = { namespace: next.namespace, addressKey: addressKey(address) };
  // A decoy step mails nobody: it only has to look like one that does.
  let silent = next.decoy !== undefined;

  const code = generateCode(stage.spec.codeLength);
  const expiresAt = new Date(now.getTime() + stage.spec.tokenExpiry * 60_000);
  const mac = codeMac((await d.key()).current, {
    executionId: next.id,
    stage: stage.name,
    addressKey: sendId.addressKey,
    code,
  });
  const seq = (next.issued ?? 0) + 1;
  const record: ExecutionData = {
    ...next,
    state: "code_sent",
    address,
    addressFixed: r.addressFixed,
    challenge: { seq, mac, issuedAt: now.toISOString(), expiresAt: expiresAt.toISOString(), attempts: 0 },
    issued: seq,
    sends: next.sends + 1,
    lastSentAt: now.toISOString(),
  };

  let slot: Slot | undefined;
  let written: Stored<ExecutionData>;
  if (!r.current) {
    // Start: nothing exists yet, so the budget comes first and a refusal leaves nothing behind.
    if (!silent) {
      const reservation = await d.throttles.reserveSend(sendId, perHour, next.id);
      if (reservation.ok) slot = reservation.slot;
      else if (mustPretend(r, reservation, perHour)) silent = true;
      else refuse({ kind: "send_limit", perHour, retryAt: reservation.retryAt });
    }
    written = await d.store.createExecution(record, r.stageUid);
  } else {
    // The guarded write takes the cooldown and replaces the code; a lost race throws ConflictError.
    written = await d.store.updateExecution(r.current, record, r.stageUid);
    if (!silent) {
      const reservation = await d.throttles.reserveSend(sendId, perHour, next.id);
      if (reservation.ok) slot = reservation.slot;
      else if (mustPretend(r, reservation, perHour)) silent = true;
      else {
        // Others took the hour's budget between our read and our write: undo our write.
        await d.store.updateExecution(written, r.current.data, r.current.stageUid).catch((e: unknown) => {
          if (!(e instanceof ConflictError)) throw e;
        });
        refuse({ kind: "send_limit", perHour, retryAt: reservation.retryAt });
      }
    }
  }
  if (silent) {
    await d.timing.pad(stage.name, started);
    return { sent: true, stored: written };
  }

  const message = composeCodeMessage({
    settings: stage.settings,
    subject: stage.spec.subject,
    to: { address, ...(next.user.name ? { name: next.user.name } : {}) },
    ...(stage.templates ? { templates: stage.templates } : {}),
    ...(next.locale ? { locale: next.locale } : {}),
    values: {
      code,
      expiresInMinutes: stage.spec.tokenExpiry,
      userName: next.user.name ?? next.user.id,
      friendlyName: stage.spec.friendlyName ?? "Email code",
      maskedEmail: maskAddress(address),
    },
  });
  try {
    await d.mailer.send(stage.settings, message);
  } catch (err) {
    const reason: SmtpSendReason = err instanceof SmtpSendError ? err.reason : "ConnectionFailed";
    const detail = err instanceof SmtpSendError ? err.message : "the mail could not be handed to the relay";
    if (slot) await d.throttles.release(slot);
    d.metrics.onEmailSendFailure(next.namespace, stage.name, reason);
    d.log.warn({ namespace: next.namespace, stage: stage.name, reason }, "sending a code failed");
    await d.failures.report(stageTarget(next.namespace, stage), reason, detail);
    // What the relay said about an address is not the end user's to learn: a refused recipient
    // looks like a sent code to them (the code simply never arrives).
    if (reason === "Rejected" && r.endUser) return { sent: true, stored: written };
    const failed = await d.store
      .updateExecution(written, {
        ...record,
        state: "send_failed",
        challenge: undefined,
        sends: next.sends,
        ...(next.lastSentAt ? { lastSentAt: next.lastSentAt } : { lastSentAt: undefined }),
      })
      .catch((e: unknown) => {
        // Someone acted on the execution meanwhile; theirs is the newer state.
        if (e instanceof ConflictError) return written;
        throw e;
      });
    return { sent: false, reason, stored: failed };
  }
  d.timing.observe(stage.name, performance.now() - started);
  d.metrics.onEmailSent(next.namespace, stage.name);
  return { sent: true, stored: written };
}

/**
 * Whether a refused budget is kept from the end user: it is, unless this execution's own sends
 * alone used it up (then saying so tells them nothing about anyone else).
 */
function mustPretend(r: SendRequest, refused: { own: number }, perHour: number): boolean {
  return r.endUser && refused.own < perHour;
}

function stageTarget(namespace: string, stage: StageContext): EventTarget {
  return {
    apiVersion: "emailauth.dev/v1alpha1",
    kind: "EmailAuthenticatorStage",
    namespace,
    name: stage.name,
    uid: stage.uid,
  };
}

/**
 * How long a real send takes from its first read to the relay's answer, per stage (a moving
 * average), so a pretended send takes about as long and timing does not tell them apart.
 */
export class SendTiming {
  readonly #ms = new Map<string, number>();
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #initialMs: number;

  constructor(options: { sleep?: (ms: number) => Promise<void>; initialMs?: number } = {}) {
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#initialMs = options.initialMs ?? 50;
  }

  observe(stage: string, ms: number): void {
    const before = this.#ms.get(stage);
    this.#ms.set(stage, before === undefined ? ms : before * 0.8 + ms * 0.2);
    // Bounded: a replica serves a bounded set of stages; forget the oldest beyond that.
    if (this.#ms.size > 10_000) this.#ms.delete(this.#ms.keys().next().value as string);
  }

  /** Waits until a real send started at `startedMs` (performance.now()) would have finished. */
  async pad(stage: string, startedMs: number): Promise<void> {
    const typical = this.#ms.get(stage) ?? this.#initialMs;
    const wait = startedMs + typical * (0.9 + Math.random() * 0.2) - performance.now();
    if (wait > 0) await this.#sleep(wait);
  }
}
