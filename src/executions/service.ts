// The HTTP API's executions: start a flow for a user, take an address, a code or a resend, and
// move through the flow's bindings. State lives only in Secrets (ExecutionStore), so any replica
// can serve any request; every decision re-reads what it acts on.
import type { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { stageSpec } from "../kinds/v1alpha1/stage.ts";
import {
  confirmDevice,
  DeviceExistsError,
  type DeviceObject,
  findConfirmedDevice,
  markUsed,
} from "../devices/devices.ts";
import { addressKey, maskAddress, parseAddress } from "../email/address.ts";
import type { GlobalSettingsRef } from "../email/settings.ts";
import { type BindingObject, resolveFlow, type FlowStep } from "../flows/flow.ts";
import type { ExecutionApi, Principal } from "../http/app.ts";
import type { AccessReviewer, Caller } from "../http/auth.ts";
import { Problem } from "../http/problems.ts";
import type { ExecutionView } from "../http/schemas.ts";
import type { CustomObject } from "@emailauth/operator-runtime";
import type { ObjectCache } from "@emailauth/operator-runtime";
import { newExecutionId, newExecutionToken, tokenHash, tokenMatches } from "./codes.ts";
import { sendCode, type SenderDeps } from "./sender.ts";
import { loadStageContext } from "./stage-context.ts";
import { enterStep } from "./steps.ts";
import type { ExecutionData, Stored } from "./types.ts";
import { verifyCode } from "./verify.ts";
import { parsePublicId, toView } from "./view.ts";

export interface ExecutionServiceDeps extends SenderDeps {
  core: CoreV1Api;
  custom: CustomObjectsApi;
  access: AccessReviewer;
  stages: ObjectCache<CustomObject>;
  bindings: ObjectCache<BindingObject>;
  devices: ObjectCache<DeviceObject>;
  global: GlobalSettingsRef;
  log: Logger;
}

/** Beyond the longest code lifetime, so a resend late in the flow still fits. */
const EXECUTION_GRACE_MINUTES = 10;

export class ExecutionService implements ExecutionApi {
  readonly #d: ExecutionServiceDeps;

  constructor(deps: ExecutionServiceDeps) {
    this.#d = deps;
  }

  async start(
    caller: Caller,
    namespace: string,
    flow: string,
    body: { user: { id: string; email?: string; name?: string } },
  ): Promise<ExecutionView> {
    const d = this.#d;
    const steps = this.#steps(namespace, flow);
    let email: string | undefined;
    if (body.user.email !== undefined) {
      const parsed = parseAddress(body.user.email);
      if (!parsed.ok) throw new Problem("invalid_email", parsed.reason);
      email = parsed.address;
    }
    const first = steps[0] as FlowStep;
    const stageUid = d.stages.get(namespace, first.stage)?.metadata?.uid ?? "";
    const now = d.clock.now();
    const longest = Math.max(...steps.map((s) => this.#spec(namespace, s.stage)?.tokenExpiry ?? 30));
    const token = newExecutionToken();
    const data: ExecutionData = {
      id: newExecutionId(),
      namespace,
      flow,
      position: 0,
      binding: first.binding,
      stage: first.stage,
      mode: first.intent,
      user: { id: body.user.id, ...(body.user.name ? { name: body.user.name } : {}), ...(email ? { email } : {}) },
      client: caller.username,
      tokenHash: tokenHash(token),
      state: "email_required",
      addressFixed: false,
      sends: 0,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + (longest + EXECUTION_GRACE_MINUTES) * 60_000).toISOString(),
    };
    const stored = await d.store.createExecution(data, stageUid);
    d.log.info({ namespace, flow, execution: data.id, client: caller.username }, "execution started");
    try {
      return this.#view(await this.#withView(this.#enter(stored, steps, 0), token), token);
    } catch (err) {
      // Nothing half-written: unless the problem hands the execution back (a failed send that a
      // resend can repair), the caller never learns its id, so it must not stay behind.
      if (!(err instanceof Problem && err.extensions.execution)) await d.store.deleteExecution(stored);
      throw err;
    }
  }

  async get(id: string, principal: Principal): Promise<ExecutionView> {
    return this.#view(await this.#load(id, principal));
  }

  async submit(
    id: string,
    principal: Principal,
    body: { email?: string; code?: string; resend?: true },
  ): Promise<ExecutionView> {
    const stored = await this.#load(id, principal);
    const e = stored.data;
    if (e.state === "completed" || e.state === "denied") throw new Problem("conflict", `the execution is ${e.state}`);
    if (body.email !== undefined) return this.#view(await this.#withView(this.#takeEmail(stored, body.email)));
    if (body.resend) return this.#view(await this.#withView(this.#resend(stored)));
    return this.#view(await this.#verify(stored, body.code ?? ""));
  }

  async #takeEmail(stored: Stored<ExecutionData>, input: string): Promise<Stored<ExecutionData>> {
    const e = stored.data;
    if (e.addressFixed) throw new Problem("conflict", "the address of this execution is already set");
    const parsed = parseAddress(input);
    if (!parsed.ok) throw new Problem("invalid_email", parsed.reason);
    if (e.state === "code_sent") this.#cooldown(e);
    return sendCode(this.#d, stored, await this.#stage(e.namespace, e.stage), parsed.address, false);
  }

  async #resend(stored: Stored<ExecutionData>): Promise<Stored<ExecutionData>> {
    const e = stored.data;
    if (e.state === "email_required" || !e.address) throw new Problem("email_required", "send an email address first");
    this.#cooldown(e);
    return sendCode(this.#d, stored, await this.#stage(e.namespace, e.stage), e.address, e.addressFixed);
  }

  async #verify(stored: Stored<ExecutionData>, code: string): Promise<Stored<ExecutionData>> {
    const d = this.#d;
    const e = stored.data;
    if (e.state === "email_required" || !e.address) throw new Problem("email_required", "send an email address first");
    if (e.state !== "code_sent")
      throw new Problem("invalid_code", "no code is pending; ask for a resend", { attemptsLeft: 0 });
    const spec = this.#spec(e.namespace, e.stage);
    if (!spec) throw new Problem("stage_not_ready", `EmailAuthenticatorStage ${e.namespace}/${e.stage} does not exist`);
    const result = await verifyCode({
      store: d.store,
      throttles: d.throttles,
      key: await d.key(),
      clock: d.clock,
      limits: { attemptsPerCode: spec.limits.attemptsPerCode, failuresPerDay: spec.limits.failuresPerDay },
      namespace: e.namespace,
      executionId: e.id,
      stage: e.stage,
      userId: e.user.id,
      addressKey: addressKey(e.address),
      code,
    });
    if (!result.ok) {
      if (result.code === "invalid_code")
        throw new Problem(
          "invalid_code",
          `the code is not correct; ${result.attemptsLeft} attempt(s) left for this code`,
          { attemptsLeft: result.attemptsLeft },
        );
      if (result.code === "code_expired") throw new Problem("code_expired", "the code has expired; ask for a resend");
      const retryAfter = result.retryAt
        ? Math.max(1, Math.ceil((result.retryAt.getTime() - d.clock.now().getTime()) / 1000))
        : undefined;
      throw new Problem(
        "too_many_attempts",
        result.retryAt
          ? "too many wrong codes; try again later"
          : "too many wrong codes for this code; ask for a resend",
        result.retryAt ? { retryAt: result.retryAt.toISOString() } : {},
        retryAfter,
      );
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
          ? await confirmDevice(d.custom, { namespace: e.namespace, stage: e.stage, user: e.user, address, now })
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
    if (next < steps.length) return this.#enter(current, steps, next);
    return d.store.updateExecution(current, {
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
    });
  }

  async #enter(stored: Stored<ExecutionData>, steps: FlowStep[], position: number): Promise<Stored<ExecutionData>> {
    const d = this.#d;
    const step = steps[position] as FlowStep;
    const e = stored.data;
    const found = findConfirmedDevice(d.devices, e.namespace, step.stage, e.user.id);
    const entry = enterStep(
      step,
      e.user,
      found?.spec ? { name: found.metadata?.name ?? "", email: found.spec.email } : undefined,
    );
    const stageUid = d.stages.get(e.namespace, step.stage)?.metadata?.uid;
    if (!stageUid)
      throw new Problem("stage_not_ready", `EmailAuthenticatorStage ${e.namespace}/${step.stage} does not exist`);
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
      return d.store.updateExecution(
        stored,
        { ...at, state: "denied", denial: { code: entry.code, detail: entry.detail } },
        stageUid,
      );
    if (entry.kind === "ask_email")
      return d.store.updateExecution(stored, { ...at, mode: "Setup", state: "email_required" }, stageUid);
    const moved =
      position === e.position
        ? stored
        : await d.store.updateExecution(stored, { ...at, mode: entry.mode, state: "email_required" }, stageUid);
    return sendCode(
      d,
      { ...moved, data: { ...moved.data, mode: entry.mode } },
      await this.#stage(e.namespace, step.stage),
      entry.address,
      true,
    );
  }

  #cooldown(e: ExecutionData): void {
    const spec = this.#spec(e.namespace, e.stage);
    const cooldownMs = (spec?.limits.resendCooldownSeconds ?? 60) * 1000;
    const last = e.lastSentAt ? Date.parse(e.lastSentAt) : 0;
    const wait = last + cooldownMs - this.#d.clock.now().getTime();
    if (wait > 0) {
      throw new Problem(
        "resend_cooldown",
        "a code was sent moments ago; wait before asking for another",
        { retryAt: new Date(last + cooldownMs).toISOString() },
        Math.ceil(wait / 1000),
      );
    }
  }

  #steps(namespace: string, flow: string): FlowStep[] {
    const r = resolveFlow(namespace, flow, this.#d.bindings.list(namespace));
    if (!r.ok) throw new Problem(r.code, r.detail);
    return r.steps;
  }

  #spec(namespace: string, stage: string) {
    const parsed = stageSpec.safeParse(this.#d.stages.get(namespace, stage)?.spec);
    return parsed.success ? parsed.data : undefined;
  }

  async #stage(namespace: string, name: string) {
    const r = await loadStageContext(this.#d.core, this.#d.stages, this.#d.global, namespace, name);
    if (!r.ok) throw new Problem("stage_not_ready", r.detail);
    return r.stage;
  }

  /** Finds the execution and checks that `principal` may see it; unknown and not-yours look alike. */
  async #load(publicId: string, principal: Principal): Promise<Stored<ExecutionData>> {
    const d = this.#d;
    const ref = parsePublicId(publicId);
    const stored = ref ? await d.store.getExecution(ref.namespace, ref.id) : undefined;
    if (!stored) throw new Problem("not_found", "no such execution");
    const e = stored.data;
    if (principal.kind === "token") {
      if (!tokenMatches(principal.token, e.tokenHash)) throw new Problem("not_found", "no such execution");
    } else if (
      principal.caller.username !== e.client ||
      !(await d.access.mayExecute(principal.caller, e.namespace, e.flow))
    ) {
      throw new Problem(
        "forbidden",
        "only the application that started the execution (or the execution token) may use it",
      );
    }
    if (Date.parse(e.expiresAt) <= d.clock.now().getTime())
      throw new Problem("code_expired", "the execution has expired; start a new one");
    return stored;
  }

  /** A failed send still changed the execution; the problem then carries the new view. */
  async #withView(p: Promise<Stored<ExecutionData>>, token?: string): Promise<Stored<ExecutionData>> {
    try {
      return await p;
    } catch (err) {
      const failed = (err as { execution?: Stored<ExecutionData> }).execution;
      if (err instanceof Problem && failed) err.extensions.execution = this.#view(failed, token);
      throw err;
    }
  }

  #view(stored: Stored<ExecutionData>, token?: string): ExecutionView {
    const spec = this.#spec(stored.data.namespace, stored.data.stage);
    return toView(stored.data, {
      codeLength: spec?.codeLength ?? 6,
      resendCooldownSeconds: spec?.limits.resendCooldownSeconds ?? 60,
      ...(token ? { token } : {}),
    });
  }
}
