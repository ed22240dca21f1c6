// Flow executions: start a flow for a user, take an address, a code or a resend, and move
// through the flow's bindings. State lives only in Secrets (ExecutionRecords), so any replica
// can serve any request; every decision re-reads what it acts on, and every write is guarded by
// the resourceVersion it was computed from: a request that loses starts again from a fresh read,
// where the rules (cooldown, state) answer it. Answers are typed outcomes (outcomes.ts); nothing
// here knows how they travel.
import { createHash } from "node:crypto";
import type { CustomObjectsApi } from "@emailauth/operator-runtime";
import type { Logger } from "pino";
import {
  confirmDevice,
  DeviceExistsError,
  type UserDevices,
  findConfirmedDevice,
  markUsed,
} from "../devices/devices.ts";
import { maskAddress, parseAddress } from "../email/address.ts";
import type { SmtpSendReason } from "../email/mailer.ts";
import { type FlowBindings, flowPages, resolveFlow, type FlowStep } from "../flows/flow.ts";
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
  type ExecutionError,
  type ExecutionOutcome,
  type ExecutionSnapshot,
  Refusal,
  refuse,
  type Submission,
} from "./outcomes.ts";
import { sendCode, type SenderDeps } from "./sender.ts";
import { enterStep } from "./steps.ts";
import { ContendedError } from "./throttle.ts";
import type { ExecutionData, Stored } from "./types.ts";
import { verifyCode } from "./verify.ts";

export interface ExecutionServiceDeps extends SenderDeps {
  custom: CustomObjectsApi;
  access: AccessCheck;
  stages: StageDirectory;
  bindings: FlowBindings;
  devices: UserDevices;
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

/** What entering a binding makes of the record, and the code to send if it sends one. */
interface Entry {
  data: ExecutionData;
  stageUid: string;
  send?: { address: string };
}

/** Beyond the longest code lifetime, so a resend late in the flow still fits. */
const EXECUTION_GRACE_MINUTES = 10;
const DEFAULT_CODE_LENGTH = 6;
const DEFAULT_COOLDOWN_SECONDS = 60;
/**
 * A submission that lost a guarded write is run again from a fresh read; the rules then answer
 * the losers (cooldown, state), so few rounds are ever needed.
 */
const SUBMIT_ROUNDS = 6;
/** What the end user sees of a denial: that the flow cannot go on, not why. */
const END_USER_DENIAL = { code: "denied", detail: "this sign-in cannot continue" };

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
        const allowed = flowPages(flow, d.bindings.of(namespace, flow)).allowedReturnTo;
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
        user: { id: user.id, ...(user.name ? { name: user.name } : {}), ...(email ? { email } : {}) },
        client: app.username,
        tokenHash: tokenHash(token),
        state: "email_required",
        addressFixed: false,
        sends: 0,
        issued: 0,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + (longest + EXECUTION_GRACE_MINUTES) * 60_000).toISOString(),
        ...(returnTo ? { returnTo } : {}),
        ...(handOff.state !== undefined ? { clientState: handOff.state } : {}),
        ...(user.locale ? { locale: user.locale } : {}),
        launchHash: launch.state.launchHash,
        launchExpiresAt: launch.state.launchExpiresAt,
      };
      // One write: the record is created in the state its first binding puts it in (with its
      // code, after the address budget is reserved), so a refused start leaves nothing behind.
      const entry = this.#entry(data, steps, 0);
      const progress = entry.send
        ? await this.#send(undefined, entry, entry.send.address, true, false)
        : { stored: await d.store.createExecution(entry.data, entry.stageUid) };
      d.log.info({ namespace, flow, execution: data.id, client: app.username }, "execution started");
      return this.#answer(progress, false, token, launch.token);
    } catch (err) {
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
        await d.store.updateExecution(stored, { ...stored.data, ...redeemed.next });
        return { ok: true, expiresAt: stored.data.expiresAt };
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
      }
    }
    return { ok: false };
  }

  async get(ref: ExecutionRef, actor: Actor): Promise<ExecutionOutcome> {
    try {
      return { ok: true, execution: this.#snapshot((await this.#load(ref, actor)).data, endUser(actor)) };
    } catch (err) {
      return refusal(err);
    }
  }

  async submit(ref: ExecutionRef, actor: Actor, input: Submission): Promise<ExecutionOutcome> {
    try {
      for (let round = 1; ; round++) {
        try {
          return await this.#submitOnce(ref, actor, input);
        } catch (err) {
          // Another request changed the execution first: its new state decides this one.
          if (!(err instanceof ConflictError) || round >= SUBMIT_ROUNDS) throw err;
        }
      }
    } catch (err) {
      return refusal(err);
    }
  }

  async #submitOnce(ref: ExecutionRef, actor: Actor, input: Submission): Promise<ExecutionOutcome> {
    const stored = await this.#load(ref, actor);
    const state = stored.data.state;
    const user = endUser(actor);
    if (state === "completed" || state === "denied") refuse({ kind: "finished", state });
    this.#sameStage(stored);
    if (input.kind === "email") return this.#answer(await this.#takeEmail(stored, input.email, user), user);
    if (input.kind === "resend") return this.#answer(await this.#resend(stored, user), user);
    return this.#answer(await this.#verify(stored, input.code, user), user);
  }

  async #takeEmail(stored: Stored<ExecutionData>, input: string, user: boolean): Promise<Progress> {
    const e = stored.data;
    if (e.addressFixed) refuse({ kind: "address_fixed" });
    const parsed = parseAddress(input);
    if (!parsed.ok) return refuse({ kind: "invalid_email", reason: parsed.reason });
    if (e.state === "code_sent") this.#cooldown(e);
    return this.#send(stored, { data: e, stageUid: stored.stageUid }, parsed.address, false, user);
  }

  async #resend(stored: Stored<ExecutionData>, user: boolean): Promise<Progress> {
    const e = stored.data;
    if (e.state === "email_required" || !e.address) return refuse({ kind: "email_required" });
    this.#cooldown(e);
    return this.#send(stored, { data: e, stageUid: stored.stageUid }, e.address, e.addressFixed, user);
  }

  async #send(
    current: Stored<ExecutionData> | undefined,
    entry: Entry,
    address: string,
    addressFixed: boolean,
    user: boolean,
  ): Promise<Progress> {
    const stage = await this.#sendContext(entry.data.namespace, entry.data.stage);
    const result = await sendCode(this.#d, {
      current,
      next: entry.data,
      stageUid: entry.stageUid,
      stage,
      address,
      addressFixed,
      endUser: user,
    });
    return result.sent ? { stored: result.stored } : { stored: result.stored, failed: result.reason };
  }

  async #verify(stored: Stored<ExecutionData>, code: string, user: boolean): Promise<Progress> {
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
    const steps = this.#steps(e.namespace, e.flow);
    const result = await verifyCode({
      records: d.store,
      throttles: d.throttles,
      key: await d.key(e.challenge?.mac),
      clock: d.clock,
      limits: { attemptsPerCode: spec.limits.attemptsPerCode, failuresPerDay: spec.limits.failuresPerDay },
      stored,
      code,
      complete: (current, consumed) => this.#completeStep(current, consumed, steps),
    });
    if (!result.ok) return refuse(result.refusal);
    // The code is used; a next binding that sends a code does so now, as a step of its own.
    const done = result.stored;
    const next = done.data;
    if (next.position !== e.position && next.state === "email_required") {
      const entry = this.#entry(next, steps, next.position);
      if (entry.send) return this.#send(done, { ...entry, stageUid: done.stageUid }, entry.send.address, true, user);
    }
    return { stored: done };
  }

  /**
   * After a right code: save the device (Setup), then write the consumed record moved on to the
   * next binding (or completed), guarded by `current`'s resourceVersion, and the device's status.
   */
  async #completeStep(
    current: Stored<ExecutionData>,
    consumed: ExecutionData,
    steps: FlowStep[],
  ): Promise<Stored<ExecutionData>> {
    const d = this.#d;
    const e = consumed;
    const now = d.clock.now();
    const address = e.address ?? "";
    let device: string;
    // The device's status write (Setup: its first; Authenticate: lastUsedAt) does not depend on
    // the record, so it goes alongside the record's write.
    let deviceStatus: (() => Promise<void>) | undefined;
    try {
      if (e.mode === "Setup") {
        const saved = await confirmDevice(d.custom, {
          namespace: e.namespace,
          stage: e.stage,
          user: e.user,
          address,
          now,
          devices: d.devices,
        });
        [device, deviceStatus] = [saved.name, saved.writeStatus];
      } else {
        device = findConfirmedDevice(d.devices, e.namespace, e.stage, e.user.id)?.metadata?.name ?? "";
        const used = device;
        if (used) deviceStatus = () => markUsed(d.custom, e.namespace, used, now);
      }
    } catch (err) {
      if (!(err instanceof DeviceExistsError)) throw err;
      return d.store.updateExecution(current, {
        ...e,
        state: "denied",
        denial: { code: "device_exists", detail: err.message },
      });
    }
    const [written, marked] = await Promise.allSettled([
      this.#advance(current, e, steps, device, now),
      deviceStatus?.(),
    ]);
    if (written.status === "rejected") throw written.reason;
    if (marked.status === "rejected") throw marked.reason;
    return written.value;
  }

  /** The consumed record, moved on to the next binding or completed (and signed), written. */
  async #advance(
    current: Stored<ExecutionData>,
    e: ExecutionData,
    steps: FlowStep[],
    device: string,
    now: Date,
  ): Promise<Stored<ExecutionData>> {
    const d = this.#d;
    d.log.info({ namespace: e.namespace, execution: e.id, stage: e.stage, mode: e.mode }, "code verified");
    const next = e.position + 1;
    if (next < steps.length) {
      const entry = this.#entry(e, steps, next);
      // A code to send is sent after this write: the write must not wait on the relay.
      const data = entry.send ? { ...entry.data, state: "email_required" as const } : entry.data;
      return d.store.updateExecution(current, data, entry.stageUid);
    }
    const completed: ExecutionData = {
      ...e,
      state: "completed",
      result: {
        user: e.user.id,
        stage: e.stage,
        device,
        maskedEmail: maskAddress(e.address ?? ""),
        verifiedAt: now.toISOString(),
      },
    };
    // Signed once: the pages and the API hand out this same token.
    const resultToken = d.signResult ? await d.signResult(completed) : undefined;
    return d.store.updateExecution(current, resultToken ? { ...completed, resultToken } : completed);
  }

  /**
   * What entering binding `position` makes of the record (pure apart from the caches): denied,
   * asking for an address, or a code to send. An Authenticate binding that denies users without
   * a device becomes a decoy code step instead: the application sees the denial, the end user an
   * ordinary step that mails nothing, so the execution token does not tell who has a device.
   */
  #entry(e: ExecutionData, steps: FlowStep[], position: number): Entry {
    const step = steps[position] as FlowStep;
    const found = findConfirmedDevice(this.#d.devices, e.namespace, step.stage, e.user.id);
    const entry = enterStep(
      step,
      e.user,
      found?.spec ? { name: found.metadata?.name ?? "", email: found.spec.email } : undefined,
      this.#d.stages.get(e.namespace, step.stage)?.spec.configureFlow,
    );
    const stageUid = this.#stageUid(e.namespace, step.stage);
    const at: ExecutionData = {
      ...e,
      position,
      binding: step.binding,
      stage: step.stage,
      mode: step.intent,
      address: undefined,
      addressFixed: false,
      challenge: undefined,
      decoy: undefined,
    };
    if (entry.kind === "deny" && entry.code === "no_device")
      return {
        data: { ...at, decoy: { code: entry.code, detail: entry.detail } },
        stageUid,
        send: { address: decoyAddress(e) },
      };
    if (entry.kind === "deny")
      return { data: { ...at, state: "denied", denial: { code: entry.code, detail: entry.detail } }, stageUid };
    if (entry.kind === "ask_email") return { data: { ...at, mode: "Setup", state: "email_required" }, stageUid };
    return { data: { ...at, mode: entry.mode }, stageUid, send: { address: entry.address } };
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
    const r = resolveFlow(namespace, flow, this.#d.bindings.of(namespace, flow));
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
      uid ?? refuse({ kind: "stage_not_ready", detail: `EmailAuthenticatorStage ${namespace}/${stage} does not exist` })
    );
  }

  /**
   * A record outlives its stage (it expires on its own): one whose stage was deleted and created
   * again under the same name is answered as if the stage were missing, never continued against
   * the new one. A missing stage is refused where the step needs it.
   */
  #sameStage(stored: Stored<ExecutionData>): void {
    const { namespace, stage } = stored.data;
    const uid = this.#d.stages.get(namespace, stage)?.uid;
    if (uid !== undefined && uid !== stored.stageUid)
      refuse({
        kind: "stage_not_ready",
        detail: `EmailAuthenticatorStage ${namespace}/${stage} of this execution does not exist any more (a stage of that name was created since)`,
      });
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

  #answer(progress: Progress, user: boolean, token?: string, launchToken?: string): ExecutionOutcome {
    const execution = this.#snapshot(progress.stored.data, user);
    const secrets = { ...(token ? { token } : {}), ...(launchToken ? { launchToken } : {}) };
    if (progress.failed)
      return {
        ok: false,
        error: { kind: "send_failed", ...(user ? {} : { reason: progress.failed }), execution, ...secrets },
      };
    return { ok: true, execution, ...secrets };
  }

  /**
   * The record as this audience may see it: the application sees a decoy step as the denial it
   * is; the end user sees denials without their reason and a decoy as an ordinary code step.
   */
  #snapshot(stored: ExecutionData, user: boolean): ExecutionSnapshot {
    const spec = this.#d.stages.get(stored.namespace, stored.stage)?.spec;
    let record = stored;
    if (stored.decoy && !user)
      record = { ...stored, state: "denied", denial: stored.decoy, challenge: undefined, address: undefined };
    else if (stored.denial && user) record = { ...stored, denial: END_USER_DENIAL };
    return {
      record: { ...record, decoy: undefined },
      codeLength: spec?.codeLength ?? DEFAULT_CODE_LENGTH,
      resendAvailableAt: this.#resendAvailableAt(stored),
    };
  }
}

/** The end user's side: the execution token, or the hosted pages' session. */
const endUser = (actor: Actor): boolean => actor.kind !== "application";

/**
 * Where a decoy step claims to send: the address the application gave, else one derived from the
 * user id, so the masked form stays the same for the same user.
 */
function decoyAddress(e: ExecutionData): string {
  if (e.user.email) return e.user.email;
  const parsed = parseAddress(e.user.id);
  if (parsed.ok) return parsed.address;
  const hash = createHash("sha256").update(`${e.namespace}\0${e.user.id}`).digest("hex");
  return `${hash.slice(0, 4 + (parseInt(hash.slice(0, 1), 16) % 6))}@${hash.slice(10, 17)}.com`;
}

function refusal(err: unknown): ExecutionOutcome {
  if (err instanceof Refusal) return { ok: false, error: err.error };
  if (err instanceof ConflictError || err instanceof ContendedError) return { ok: false, error: BUSY };
  throw err;
}

const BUSY: ExecutionError = { kind: "busy" };
