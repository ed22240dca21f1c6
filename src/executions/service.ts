// Flow executions: start a flow for a user, take an address, a code or a resend, and move
// through the flow's bindings. State lives only in Secrets (ExecutionRecords), so any replica
// can serve any request; every decision re-reads what it acts on, and every write is guarded by
// the resourceVersion it was computed from: a request that loses starts again from a fresh read,
// where the rules (cooldown, state) answer it. Answers are typed outcomes (outcomes.ts); nothing
// here knows how they travel.
import { parseAddress } from "../email/address.ts";
import { type FlowBindings, flowPages, resolveFlow, type FlowStep } from "../flows/flow.ts";
import { newLaunch, redeemLaunch, secretMatches } from "../hand-off/launch.ts";
import { matchReturnTo } from "../hand-off/return-to.ts";
import type { StageContext } from "../stage/stage-directory.ts";
import { type Entry, enterBinding } from "./binding-entry.ts";
import { newExecutionToken, tokenHash, tokenMatches } from "./codes.ts";
import { type CompleteStepDeps, completeStep } from "./complete-step.ts";
import { ConflictError } from "./execution-records.ts";
import { answer, type Progress, resendAvailableAt, snapshot } from "./execution-view.ts";
import { type ExecutionRef, newExecutionId } from "./ids.ts";
import {
  type AccessCheck,
  type Actor,
  type Application,
  type ExecutionError,
  type ExecutionOutcome,
  Refusal,
  refuse,
  type Submission,
} from "./outcomes.ts";
import { sendCode, type SenderDeps } from "./sender.ts";
import { ContendedError } from "./throttle.ts";
import type { ExecutionData, Stored } from "./types.ts";
import { verifyCode } from "./verify.ts";

export interface ExecutionServiceDeps extends SenderDeps, CompleteStepDeps {
  access: AccessCheck;
  bindings: FlowBindings;
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

/** Beyond the longest code lifetime, so a resend late in the flow still fits. */
const EXECUTION_GRACE_MINUTES = 10;
/**
 * A submission that lost a guarded write is run again from a fresh read; the rules then answer
 * the losers (cooldown, state), so few rounds are ever needed.
 */
const SUBMIT_ROUNDS = 6;

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
      const entry = enterBinding(d, data, steps, 0);
      const progress = entry.send
        ? await this.#send(undefined, entry, entry.send.address, true, false)
        : { stored: await d.store.createExecution(entry.data, entry.stageUid) };
      d.log.info({ namespace, flow, execution: data.id, client: app.username }, "execution started");
      return answer(d.stages, progress, false, { token, launchToken: launch.token });
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
      return { ok: true, execution: snapshot(this.#d.stages, (await this.#load(ref, actor)).data, endUser(actor)) };
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
    const stages = this.#d.stages;
    if (input.kind === "email") return answer(stages, await this.#takeEmail(stored, input.email, user), user);
    if (input.kind === "resend") return answer(stages, await this.#resend(stored, user), user);
    return answer(stages, await this.#verify(stored, input.code, user), user);
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
      complete: (current, consumed) => completeStep(d, current, consumed, steps),
    });
    if (!result.ok) return refuse(result.refusal);
    // The code is used; a next binding that sends a code does so now, as a step of its own.
    const done = result.stored;
    const next = done.data;
    if (next.position !== e.position && next.state === "email_required") {
      const entry = enterBinding(d, next, steps, next.position);
      if (entry.send) return this.#send(done, { ...entry, stageUid: done.stageUid }, entry.send.address, true, user);
    }
    return { stored: done };
  }

  #cooldown(e: ExecutionData): void {
    const retryAt = resendAvailableAt(this.#d.stages, e);
    if (retryAt.getTime() > this.#d.clock.now().getTime()) refuse({ kind: "resend_cooldown", retryAt });
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
}

/** The end user's side: the execution token, or the hosted pages' session. */
const endUser = (actor: Actor): boolean => actor.kind !== "application";

function refusal(err: unknown): ExecutionOutcome {
  if (err instanceof Refusal) return { ok: false, error: err.error };
  if (err instanceof ConflictError || err instanceof ContendedError) return { ok: false, error: BUSY };
  throw err;
}

const BUSY: ExecutionError = { kind: "busy" };
