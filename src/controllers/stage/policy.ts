// The stage's desired status, computed from what the gatherer found. Pure (the clock is an
// argument), so every rule is a unit test: resolve the SMTP settings, check the template,
// and report Ready, or Stalled with a reason and a message a human can act on.
import type { V1ConfigMap } from "@kubernetes/client-node";
import type { StageSpec, StageStatus } from "../../kinds/v1alpha1/stage.ts";
import { compileTemplate, TemplateError } from "../../email/template.ts";
import { connectionSummary, resolveSmtpSettings, type SettingsInput, type SmtpSettings } from "../../email/settings.ts";
import {
  type Condition,
  readinessConditions,
  setCondition,
  statusEqual,
  type Readiness,
} from "@emailauth/operator-runtime";

export const CONNECTION_VERIFIED = "ConnectionVerified";

export interface ConnectionCheckResult {
  ok: boolean;
  reason: string;
  message: string;
}

export interface StageInput {
  generation: number;
  spec: StageSpec;
  status?: StageStatus;
  settings: SettingsInput;
  /** null: referenced and absent; undefined: no templateRef. */
  templateConfigMap?: V1ConfigMap | null;
  flows: string[];
  deviceCount: number;
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
}

export function planStage(input: StageInput, now: Date): StagePlan {
  const resolution = resolveSmtpSettings(input.settings);
  const templateProblem = checkTemplates(input);
  const readiness: Readiness = !resolution.ok
    ? { stalled: { reason: resolution.reason, message: resolution.message } }
    : templateProblem
      ? { stalled: templateProblem }
      : { ready: { reason: "Ready", message: readyMessage(resolution.settings) } };

  let conditions: Condition[] = readinessConditions(
    { generation: input.generation, ...readiness },
    now,
    input.status?.conditions,
  );
  conditions = connectionCondition(conditions, input, resolution.ok, now);
  const status: StageStatus = {
    observedGeneration: input.generation,
    conditions,
    ...(resolution.ok ? { connection: connectionSummary(resolution.settings) } : {}),
    flows: [...new Set(input.flows)].sort(),
    deviceCount: input.deviceCount,
  };
  return {
    status,
    ...(resolution.ok && !templateProblem ? { settings: resolution.settings } : {}),
    changed: !statusEqual(status, input.status ?? {}),
    ...eventFor(input.status?.conditions, conditions),
  };
}

function readyMessage(s: SmtpSettings): string {
  const tls = { None: "without TLS", STARTTLS: "with STARTTLS (required)", ImplicitTLS: "with implicit TLS" }[
    s.tlsMode
  ];
  const auth = s.auth ? ", authenticating" : "";
  return `sends from ${s.fromAddress} through ${connectionSummary(s).endpoint} ${tls}${auth} (${s.source.toLowerCase()} settings)`;
}

function checkTemplates(input: StageInput): { reason: string; message: string } | undefined {
  const ref = input.spec.templateRef;
  if (!ref) return undefined;
  const where = `ConfigMap ${input.settings.namespace}/${ref.name}`;
  if (!input.templateConfigMap) return { reason: "TemplateNotFound", message: `the template ${where} does not exist` };
  const data = input.templateConfigMap.data ?? {};
  for (const [key, format] of [
    [ref.htmlKey, "html"],
    [ref.textKey, "text"],
  ] as const) {
    const source = data[key];
    if (source === undefined) return { reason: "InvalidTemplate", message: `the template ${where} has no key ${key}` };
    try {
      compileTemplate(source, format);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      return { reason: "InvalidTemplate", message: `${where} key ${key}: ${e.message}` };
    }
  }
  return undefined;
}

/** Present only while checks are enabled; Unknown until the first check of these settings. */
function connectionCondition(conditions: Condition[], input: StageInput, usable: boolean, now: Date): Condition[] {
  if (!input.spec.connectionCheck.enabled) return conditions.filter((c) => c.type !== CONNECTION_VERIFIED);
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
  return setCondition(conditions, { type: CONNECTION_VERIFIED, observedGeneration: input.generation, ...update }, now);
}

/** One Event per change of the Ready condition's status or reason, not per reconcile. */
function eventFor(before: readonly Condition[] | undefined, after: readonly Condition[]): { event?: StageEvent } {
  const was = before?.find((c) => c.type === "Ready");
  const is = after.find((c) => c.type === "Ready");
  if (!is || (was && was.status === is.status && was.reason === is.reason)) return {};
  return { event: { type: is.status === "True" ? "Normal" : "Warning", reason: is.reason, message: is.message } };
}
