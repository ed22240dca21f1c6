// The stage's desired status, computed from what the gatherer found. Pure (the clock is an
// argument), so every rule is a unit test: resolve the SMTP settings, check the template,
// and report Ready, or Stalled with a reason and a message a human can act on. The device
// count is written in batches: a change of the count alone waits until the status has not been
// written for DEVICE_COUNT_INTERVAL_MS, so enrolments cost no stage status write each.
import type { ConfigMap } from "@emailauth/operator-runtime";
import type { StageSpec, StageStatus } from "../../kinds/v1alpha1/stage.ts";
import { connectionSummary, resolveSmtpSettings, type SettingsInput, type SmtpSettings } from "../../email/settings.ts";
import { type Condition, type ConditionUpdate, statusEqual, type Readiness } from "@emailauth/operator-runtime";
import { stageTemplates } from "../../stage/templates.ts";
import { composeStatus } from "../status.ts";

export const CONNECTION_VERIFIED = "ConnectionVerified";
/** The longest status.deviceCount lags behind the devices; at most one count-only write per interval. */
export const DEVICE_COUNT_INTERVAL_MS = 10_000;
/** Whether the flow named in spec.configureFlow exists and sets this stage up. Informational. */
export const CONFIGURE_FLOW_READY = "ConfigureFlowReady";

/** A FlowBinding of the flow named in spec.configureFlow, as the stage sees it. */
export interface ConfigureFlowBinding {
  name: string;
  stage: string;
  intent: "Setup" | "Authenticate";
}

export interface ConnectionCheckResult {
  ok: boolean;
  reason: string;
  message: string;
}

export interface StageInput {
  namespace: string;
  name: string;
  generation: number;
  spec: StageSpec;
  status?: StageStatus;
  settings: SettingsInput;
  /** null: referenced and absent; undefined: no templateRef. */
  templateConfigMap?: ConfigMap | null;
  flows: string[];
  deviceCount: number;
  /** When this stage's status was last written; unknown after a restart (the count is then written at once). */
  statusWrittenAt?: Date;
  /** The bindings of spec.configureFlow in the namespace (empty when it names no flow). */
  configureFlowBindings: ConfigureFlowBinding[];
  /** The latest connection check for the current settings, when checks are enabled. */
  connectionCheck?: ConnectionCheckResult;
}

export interface StageEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export interface StagePlan {
  status: StageStatus;
  /** Resolved settings when usable, for the connection check; never written anywhere. */
  settings?: SmtpSettings;
  changed: boolean;
  event?: StageEvent;
  /** A new device count held back: plan again after this long to write it. */
  countDueInMs?: number;
}

export function planStage(input: StageInput, now: Date): StagePlan {
  const resolution = resolveSmtpSettings(input.settings);
  const templates = stageTemplates(input.settings.namespace, input.spec, input.templateConfigMap);
  const templateProblem = templates.ok ? undefined : { reason: templates.reason, message: templates.message };
  const readiness: Readiness = !resolution.ok
    ? { stalled: { reason: resolution.reason, message: resolution.message } }
    : templateProblem
      ? { stalled: templateProblem }
      : { ready: { reason: "Ready", message: readyMessage(resolution.settings) } };

  const conditions = [connectionCondition(input, resolution.ok), configureFlowCondition(input)].filter(
    (c): c is Omit<ConditionUpdate, "observedGeneration"> => c !== undefined,
  );
  const status: StageStatus = composeStatus(
    input.generation,
    input.status?.conditions,
    {
      readiness,
      conditions,
      fields: {
        ...(resolution.ok ? { connection: connectionSummary(resolution.settings) } : {}),
        flows: [...new Set(input.flows)].sort(),
        deviceCount: input.deviceCount,
      },
    },
    now,
  );
  const held = holdDeviceCount(input, status, now);
  return {
    status: held?.status ?? status,
    ...(resolution.ok && !templateProblem ? { settings: resolution.settings } : {}),
    changed: !held && !statusEqual(status, input.status ?? {}),
    ...eventFor(input.status?.conditions, status.conditions ?? []),
    ...(held ? { countDueInMs: held.dueInMs } : {}),
  };
}

/**
 * When the device count is all that changed and the status was written less than the interval
 * ago: the status as it is, and when to write the count. Any other change writes at once, the
 * current count with it.
 */
function holdDeviceCount(
  input: StageInput,
  status: StageStatus,
  now: Date,
): { status: StageStatus; dueInMs: number } | undefined {
  const written = input.status?.deviceCount;
  if (written === undefined || written === input.deviceCount || !input.statusWrittenAt) return undefined;
  // Capped: a clock that stepped back must not hold the count for longer than the interval.
  const dueInMs = Math.min(
    input.statusWrittenAt.getTime() + DEVICE_COUNT_INTERVAL_MS - now.getTime(),
    DEVICE_COUNT_INTERVAL_MS,
  );
  if (dueInMs <= 0) return undefined;
  const kept = { ...status, deviceCount: written };
  return statusEqual(kept, input.status) ? { status: kept, dueInMs } : undefined;
}

function readyMessage(s: SmtpSettings): string {
  const tls = { None: "without TLS", STARTTLS: "with STARTTLS (required)", ImplicitTLS: "with implicit TLS" }[
    s.tlsMode
  ];
  const auth = s.auth ? ", authenticating" : "";
  return `sends from ${s.fromAddress} through ${connectionSummary(s).endpoint} ${tls}${auth} (${s.source.toLowerCase()} settings)`;
}

type ExtraCondition = Omit<ConditionUpdate, "observedGeneration">;

/** Present only while checks are enabled; Unknown until the first check of these settings. */
function connectionCondition(input: StageInput, usable: boolean): ExtraCondition | undefined {
  if (!input.spec.connectionCheck.enabled) return undefined;
  const check = input.connectionCheck;
  const update = !usable
    ? {
        status: "Unknown" as const,
        reason: "SettingsUnusable",
        message: "not checked: the SMTP settings cannot be resolved",
      }
    : !check
      ? { status: "Unknown" as const, reason: "Pending", message: "the connection check has not run yet" }
      : { status: check.ok ? ("True" as const) : ("False" as const), reason: check.reason, message: check.message };
  return { type: CONNECTION_VERIFIED, ...update };
}

/**
 * Present only when spec.configureFlow names a flow. The hosted pages point a user without a
 * device to that flow, so it must exist and set this stage up; it never makes the stage
 * Stalled, since the stage sends codes either way.
 */
function configureFlowCondition(input: StageInput): ExtraCondition | undefined {
  const flow = input.spec.configureFlow;
  if (!flow) return undefined;
  const type = CONFIGURE_FLOW_READY;
  const bindings = input.configureFlowBindings;
  if (!bindings.length)
    return {
      type,
      status: "False",
      reason: "FlowNotFound",
      message: `no FlowBinding in namespace ${input.namespace} binds flow ${flow}, so users without a device have no flow to set one up`,
    };
  const setup = bindings
    .filter((b) => b.stage === input.name && b.intent === "Setup")
    .map((b) => b.name)
    .sort();
  if (!setup.length)
    return {
      type,
      status: "False",
      reason: "NoSetupBinding",
      message: `flow ${flow} has no FlowBinding with intent Setup for this stage; add one so the flow sets this authenticator up`,
    };
  return {
    type,
    status: "True",
    reason: "SetupBindingFound",
    message: `flow ${flow} sets this authenticator up (FlowBinding ${setup.join(", ")})`,
  };
}

/** One Event per change of the Ready condition's status or reason, not per reconcile. */
function eventFor(before: readonly Condition[] | undefined, after: readonly Condition[]): { event?: StageEvent } {
  const was = before?.find((c) => c.type === "Ready");
  const is = after.find((c) => c.type === "Ready");
  if (!is || (was && was.status === is.status && was.reason === is.reason)) return {};
  return { event: { type: is.status === "True" ? "Normal" : "Warning", reason: is.reason, message: is.message } };
}
