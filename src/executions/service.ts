// Flow executions: start a flow for a user, take an address, a code or a resend, and move
// through the flow's bindings. State lives only in Secrets (ExecutionRecords), so any replica
// can serve any request; every decision re-reads what it acts on. Answers are typed outcomes
// (outcomes.ts); nothing here knows how they travel.
import type { CustomObjectsApi } from "@kubernetes/client-node";
import type { ObjectCache } from "@emailauth/operator-runtime";
import type { Logger } from "pino";
import {
  confirmDevice,
  DeviceExistsError,
  type DeviceObject,
  findConfirmedDevice,
  markUsed,
} from "../devices/devices.ts";
import { addressKey, maskAddress, parseAddress } from "../email/address.ts";
import type { SmtpSendReason } from "../email/mailer.ts";
import { type BindingObject, flowPages, resolveFlow, type FlowStep } from "../flows/flow.ts";
import { newLaunch, redeemLaunch, secretMatches } from "../hand-off/launch.ts";
import { matchReturnTo } from "../hand-off/return-to.ts";
import type { StageContext, StageDirectory } from "../stage/stage-directory.ts";
import { newExecutionToken, tokenHash, tokenMatches } from "./codes.ts";
import { ConflictError } from "./execution-records.ts";
import { type ExecutionRef, newExecutionId } from "./ids.ts";
import {
  type AccessCheck,
  type Actor,
  type Application,
  type ExecutionOutcome,
  type ExecutionSnapshot,
  Refusal,
  refuse,
  type Submission,
} from "./outcomes.ts";
import { sendCode, type SenderDeps } from "./sender.ts";
import { enterStep } from "./steps.ts";
import type { ExecutionData, Stored } from "./types.ts";
import { verifyCode } from "./verify.ts";

export interface ExecutionServiceDeps extends SenderDeps {
  custom: CustomObjectsApi;
  access: AccessCheck;
  stages: StageDirectory;
  bindings: ObjectCache<BindingObject>;
  devices: ObjectCache<DeviceObject>;
  log: Logger;
  /** Signs the result of a completed execution (a compact JWS); none: no signed result. */
  signResult?: (completed: ExecutionData) => Promise<string>;
}

export interface StartUser {
  id: string;
  email?: string;
  name?: string;
  /** BCP 47, for the hosted pages and the mail. */
  locale?: string;
}

/** The browser hand-off of a start request: where to return, and the application's opaque value. */
export interface HandOffRequest {
  returnTo?: string;
  state?: string;
}

/** Where a step left the execution: moved on, or waiting for a resend after a failed send. */
interface Progress {
  stored: Stored<ExecutionData>;
  failed?: SmtpSendReason;
}

/** Beyond the longest code lifetime, so a resend late in the flow still fits. */
const EXECUTION_GRACE_MINUTES = 10;
const DEFAULT_CODE_LENGTH = 6;
const DEFAULT_COOLDOWN_SECONDS = 60;

export class ExecutionService {
  readonly #d: ExecutionServiceDeps;

  constructor(deps: ExecutionServiceDeps) {
    this.#d = deps;
  }

  /** The application has been authorised for the flow by the caller of this method. */
  async start(
    app: Application,
    namespace: string,
    flow: string,
    user: StartUser,
    handOff: HandOffRequest = {},
  ): Promise<ExecutionOutcome> {
    const d = this.#d;
    let created: Stored<ExecutionData> | undefined;
    const token = newExecutionToken();
    try {
      const steps = this.#steps(namespace, flow);
      let email: string | undefined;
      if (user.email !== undefined) {
        const parsed = parseAddress(user.email);
        if (!parsed.ok) refuse({ kind: "invalid_email", reason: parsed.reason });
        else email = parsed.address;
      }
      let returnTo: string | undefined;
      if (handOff.returnTo !== undefined) {
        const allowed = flowPages(flow, d.bindings.list(namespace)).allowedReturnTo;
        const matched = matchReturnTo(handOff.returnTo, allowed);
        if (!matched.ok) refuse({ kind: "return_to_refused", reason: matched.reason });
        else returnTo = matched.value;
      }
      const first = steps[0] as FlowStep;
      const now = d.clock.now();
      const launch = newLaunch(now);
      const longest = Math.max(...steps.map((s) => d.stages.get(namespace, s.stage)?.spec.tokenExpiry ?? 30));
      const data: ExecutionData = {
        id: newExecutionId(),
        namespace,
        flow,
        position: 0,
        binding: first.binding,
        stage: first.stage,
        mode: first.intent,
        user: {
          id: user.id,
          ...(user.name ? { name: user.name } : {}),
          ...(email ? { email } : {}),
        },
        client: app.username,
        tokenHash: tokenHash(token),
        state: "email_required",
        addressFixed: false,
        sends: 0,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + (longest + EXECUTION_GRACE_MINUTES) * 60_000).toISOString(),
        ...(returnTo ? { returnTo } : {}),
        ...(handOff.state !== undefined ? { clientState: handOff.state } : {}),
        ...(user.locale ? { locale: user.locale } : {}),
        launchHash: launch.state.launchHash,
        launchExpiresAt: launch.state.launchExpiresAt,
      };
      created = await d.store.createExecution(data, this.#stageUid(namespace, first.stage));
      d.log.info({ namespace, flow, execution: data.id, client: app.username }, "execution started");
      return this.#answer(await this.#enter(created, steps, 0), token, launch.token);
    } catch (err) {
      // Nothing half-written: the caller never learns the id of an execution whose start was
      // refused or failed, so it must not stay behind. (A failed send is an answer, not this.)
      if (created) await d.store.deleteExecution(created);
      return refusal(err);
    }
  }

  /**
   * Exchanges the one-time launch token for a page session (only its hash is kept). Unknown,
   * spent and expired tokens look alike to the caller.
   */
  async launch(
    ref: ExecutionRef,
    launchToken: string,
    sessionSecret: string,
  ): Promise<{ ok: true; expiresAt: string } | { ok: false }> {
    const d = this.#d;
    // A concurrent write (the application polling, a second click) may win the precondition;
    // read again and retry, so exactly one opening of the link gets the session.
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = await d.store.getExecution(ref.namespace, ref.id);
      const now = d.clock.now();
      if (!stored || Date.parse(stored.data.expiresAt) <= now.getTime()) return { ok: false };
      const redeemed = redeemLaunch(stored.data, launchToken, sessionSecret, now);
      if (!redeemed.ok) return { ok: false };
      try {
        await d.store.updateExecution(stored, {
          ...stored.data,
          ...redeemed.next,
        });
        return { ok: true, expiresAt: stored.data.expiresAt };
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return { ok: false };
  }

  async get(ref: ExecutionRef, actor: Actor): Promise<ExecutionOutcome> {
    try {
      return {
        ok: true,
        execution: this.#snapshot((await this.#load(ref, actor)).data),
      };
    } catch (err) {
      return refusal(err);
    }
  }

  async submit(ref: ExecutionRef, actor: Actor, input: Submission): Promise<ExecutionOutcome> {
    try {
      const stored = await this.#load(ref, actor);
      const state = stored.data.state;
      if (state === "completed" || state === "denied") refuse({ kind: "finished", state });
      if (input.kind === "email") return this.#answer(await this.#takeEmail(stored, input.email));
      if (input.kind === "resend") return this.#answer(await this.#resend(stored));
      return this.#answer({ stored: await this.#verify(stored, input.code) });
    } catch (err) {
      return refusal(err);
    }
  }

  async #takeEmail(stored: Stored<ExecutionData>, input: string): Promise<Progress> {
    const e = stored.data;
    if (e.addressFixed) refuse({ kind: "address_fixed" });
    const parsed = parseAddress(input);
    if (!parsed.ok) return refuse({ kind: "invalid_email", reason: parsed.reason });
    if (e.state === "code_sent") this.#cooldown(e);
    return this.#send(stored, await this.#sendContext(e.namespace, e.stage), parsed.address, false);
  }

  async #resend(stored: Stored<ExecutionData>): Promise<Progress> {
    const e = stored.data;
    if (e.state === "email_required" || !e.address) return refuse({ kind: "email_required" });
    this.#cooldown(e);
    return this.#send(stored, await this.#sendContext(e.namespace, e.stage), e.address, e.addressFixed);
  }

  async #send(
    stored: Stored<ExecutionData>,
    stage: StageContext,
    address: string,
    addressFixed: boolean,
  ): Promise<Progress> {
    const result = await sendCode(this.#d, stored, stage, address, addressFixed);
    return result.sent ? { stored: result.stored } : { stored: result.stored, failed: result.reason };
  }

  async #verify(stored: Stored<ExecutionData>, code: string): Promise<Stored<ExecutionData>> {
    const d = this.#d;
    const e = stored.data;
    if (e.state === "email_required" || !e.address) return refuse({ kind: "email_required" });
    if (e.state !== "code_sent") refuse({ kind: "no_code_pending" });
    const spec = d.stages.get(e.namespace, e.stage)?.spec;
    if (!spec)
      return refuse({
        kind: "stage_not_ready",
        detail: `EmailAuthenticatorStage ${e.namespace}/${e.stage} does not exist`,
      });
    const result = await verifyCode({
      store: d.store,
      throttles: d.throttles,
      key: await d.key(),
      clock: d.clock,
      limits: {
        attemptsPerCode: spec.limits.attemptsPerCode,
        failuresPerDay: spec.limits.failuresPerDay,
      },
      namespace: e.namespace,
      executionId: e.id,
      stage: e.stage,
      userId: e.user.id,
      addressKey: addressKey(e.address),
      code,
    });
    if (!result.ok) {
      if (result.code === "invalid_code") refuse({ kind: "invalid_code", attemptsLeft: result.attemptsLeft });
      if (result.code === "code_expired") refuse({ kind: "code_expired" });
      if (result.code === "too_many_attempts")
        refuse(result.retryAt ? { kind: "failure_limit", retryAt: result.retryAt } : { kind: "code_spent" });
    }
    return this.#completeStep(stored);
  }

  /** The code was right: save or use the device, then enter the next binding or finish. */
  async #completeStep(stored: Stored<ExecutionData>): Promise<Stored<ExecutionData>> {
    const d = this.#d;
    const e = stored.data;
    const now = d.clock.now();
    const address = e.address ?? "";
    let device: string;
    try {
      device =
        e.mode === "Setup"
          ? await confirmDevice(d.custom, {
              namespace: e.namespace,
              stage: e.stage,
              user: e.user,
              address,
              now,
            })
          : (findConfirmedDevice(d.devices, e.namespace, e.stage, e.user.id)?.metadata?.name ?? "");
    } catch (err) {
      if (!(err instanceof DeviceExistsError)) throw err;
      return d.store.updateExecution(stored, {
        ...e,
        state: "denied",
        codeExpiresAt: undefined,
        denial: { code: "device_exists", detail: err.message },
      });
    }
    if (e.mode === "Authenticate" && device) await markUsed(d.custom, e.namespace, device, now);
    d.log.info({ namespace: e.namespace, execution: e.id, stage: e.stage, mode: e.mode }, "code verified");
    // This request won the code; a resend racing it may still have rewritten the record (and put
    // a new challenge), so continue from the current record and drop any such challenge.
    const current = (await d.store.getExecution(e.namespace, e.id)) ?? stored;
    await d.store.deleteChallenge(e.namespace, e.id);
    const steps = this.#steps(e.namespace, e.flow);
    const next = e.position + 1;
    if (next < steps.length) return (await this.#enter(current, steps, next)).stored;
    const completed: ExecutionData = {
      ...current.data,
      state: "completed",
      codeExpiresAt: undefined,
      result: {
        user: e.user.id,
        stage: e.stage,
        device,
        maskedEmail: maskAddress(address),
        verifiedAt: now.toISOString(),
      },
    };
    // Signed once: the pages and the API hand out this same token.
    const resultToken = d.signResult ? await d.signResult(completed) : undefined;
    return d.store.updateExecution(current, resultToken ? { ...completed, resultToken } : completed);
  }

  async #enter(stored: Stored<ExecutionData>, steps: FlowStep[], position: number): Promise<Progress> {
    const d = this.#d;
    const step = steps[position] as FlowStep;
    const e = stored.data;
    const found = findConfirmedDevice(d.devices, e.namespace, step.stage, e.user.id);
    const entry = enterStep(
      step,
      e.user,
      found?.spec ? { name: found.metadata?.name ?? "", email: found.spec.email } : undefined,
      d.stages.get(e.namespace, step.stage)?.spec.configureFlow,
    );
    const stageUid = this.#stageUid(e.namespace, step.stage);
    const at = {
      ...e,
      position,
      binding: step.binding,
      stage: step.stage,
      mode: step.intent,
      address: undefined,
      addressFixed: false,
      codeExpiresAt: undefined,
    };
    if (entry.kind === "deny")
      return {
        stored: await d.store.updateExecution(
          stored,
          {
            ...at,
            state: "denied",
            denial: { code: entry.code, detail: entry.detail },
          },
          stageUid,
        ),
      };
    if (entry.kind === "ask_email")
      return {
        stored: await d.store.updateExecution(stored, { ...at, mode: "Setup", state: "email_required" }, stageUid),
      };
    const moved =
      position === e.position
        ? stored
        : await d.store.updateExecution(stored, { ...at, mode: entry.mode, state: "email_required" }, stageUid);
    return this.#send(
      { ...moved, data: { ...moved.data, mode: entry.mode } },
      await this.#sendContext(e.namespace, step.stage),
      entry.address,
      true,
    );
  }

  #cooldown(e: ExecutionData): void {
    const retryAt = this.#resendAvailableAt(e);
    if (retryAt.getTime() > this.#d.clock.now().getTime()) refuse({ kind: "resend_cooldown", retryAt });
  }

  #resendAvailableAt(e: ExecutionData): Date {
    // A failed send starts no cooldown: without a send on record a resend is possible at once.
    if (!e.lastSentAt) return new Date(e.createdAt);
    const cooldown = this.#d.stages.get(e.namespace, e.stage)?.spec.limits.resendCooldownSeconds;
    return new Date(Date.parse(e.lastSentAt) + (cooldown ?? DEFAULT_COOLDOWN_SECONDS) * 1000);
  }

  #steps(namespace: string, flow: string): FlowStep[] {
    const r = resolveFlow(namespace, flow, this.#d.bindings.list(namespace));
    if (r.ok) return r.steps;
    return refuse(
      r.code === "not_found"
        ? { kind: "flow_not_found", detail: r.detail }
        : { kind: "stage_not_ready", detail: r.detail },
    );
  }

  #stageUid(namespace: string, stage: string): string {
    const uid = this.#d.stages.get(namespace, stage)?.uid;
    return (
      uid ??
      refuse({
        kind: "stage_not_ready",
        detail: `EmailAuthenticatorStage ${namespace}/${stage} does not exist`,
      })
    );
  }

  async #sendContext(namespace: string, name: string): Promise<StageContext> {
    const r = await this.#d.stages.sendContext(namespace, name);
    return r.ok ? r.stage : refuse({ kind: "stage_not_ready", detail: r.detail });
  }

  /** Finds the execution and checks that `actor` may see it; unknown and not-yours look alike. */
  async #load(ref: ExecutionRef, actor: Actor): Promise<Stored<ExecutionData>> {
    const d = this.#d;
    const stored = await d.store.getExecution(ref.namespace, ref.id);
    if (!stored) return refuse({ kind: "not_found" });
    const e = stored.data;
    if (actor.kind === "token") {
      if (!tokenMatches(actor.token, e.tokenHash)) refuse({ kind: "not_found" });
    } else if (actor.kind === "session") {
      if (!secretMatches(actor.secret, e.sessionHash)) refuse({ kind: "not_found" });
    } else if (actor.app.username !== e.client || !(await d.access.mayExecute(actor.app, e.namespace, e.flow))) {
      refuse({ kind: "forbidden" });
    }
    if (Date.parse(e.expiresAt) <= d.clock.now().getTime()) refuse({ kind: "execution_expired" });
    return stored;
  }

  #answer(progress: Progress, token?: string, launchToken?: string): ExecutionOutcome {
    const execution = this.#snapshot(progress.stored.data);
    const secrets = {
      ...(token ? { token } : {}),
      ...(launchToken ? { launchToken } : {}),
    };
    if (progress.failed)
      return {
        ok: false,
        error: {
          kind: "send_failed",
          reason: progress.failed,
          execution,
          ...secrets,
        },
      };
    return { ok: true, execution, ...secrets };
  }

  #snapshot(record: ExecutionData): ExecutionSnapshot {
    const spec = this.#d.stages.get(record.namespace, record.stage)?.spec;
    return {
      record,
      codeLength: spec?.codeLength ?? DEFAULT_CODE_LENGTH,
      resendAvailableAt: this.#resendAvailableAt(record),
    };
  }
}

function refusal(err: unknown): ExecutionOutcome {
  if (err instanceof Refusal) return { ok: false, error: err.error };
  throw err;
}
