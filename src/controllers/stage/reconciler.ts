// EmailAuthenticatorStage: gather (typed caches and the reference tracker), plan (policy.ts,
// pure), write once and only on change. A finalizer only where the operator must act at
// deletion: with deviceDeletionPolicy Delete it deletes the stage's devices first. Executions
// need no finalizer: they carry owner references to the stage, expire, and are swept.
import type { KubernetesObject } from "@emailauth/operator-runtime";
import { DEVICES_FINALIZER, LEGACY_EXECUTIONS_FINALIZER } from "../../kinds/labels.ts";
import type { StageStatus } from "../../kinds/v1alpha1/stage.ts";
import type { FlowBindingObject, StageObject } from "../../kinds/v1alpha1/objects.ts";
import type { GlobalSettingsRef } from "../../email/settings.ts";
import { STAGES } from "../../k8s/custom-objects.ts";
import { gatherStageInputs } from "../../stage/inputs.ts";
import { refList, stageReferences } from "../../stage/references.ts";
import {
  type Clock,
  type CustomObject,
  type EventRecorder,
  type ObjectCache,
  type ReconcileContext,
  type Reconciler,
  type ReferenceTracker,
  type Request,
  requestKey,
  type Result,
  statusEqual,
} from "@emailauth/operator-runtime";
import type { ObjectWrites } from "../object-writes.ts";
import { composeStatus } from "../status.ts";
import { invalidSpec } from "../status-reconciler.ts";
import type { ConnectionChecks } from "./connection-checks.ts";
import { planStage, type StageInput } from "./policy.ts";
import type { DeleteStageDevices } from "./stage-devices.ts";

/** A stage's bindings and devices, from indexes kept over the caches (no scan of the namespace). */
export interface StageRelations {
  bindingsOfStage(namespace: string, stage: string): FlowBindingObject[];
  bindingsOfFlow(namespace: string, flow: string): FlowBindingObject[];
  deviceCount(namespace: string, stage: string): number;
}

export interface StageReconcilerDeps {
  stages: ObjectCache<StageObject>;
  relations: StageRelations;
  refs: ReferenceTracker<KubernetesObject>;
  writes: ObjectWrites;
  deleteDevices: DeleteStageDevices;
  events: EventRecorder;
  checks: ConnectionChecks;
  clock: Clock;
  global: GlobalSettingsRef;
}

/** While a referenced object's watch has not listed yet. */
const REFERENCE_SYNC_RETRY_MS = 250;

type AnyStage = CustomObject<unknown, StageStatus>;

export class StageReconciler implements Reconciler {
  readonly #d: StageReconcilerDeps;
  /** When each stage's status was last written (device count included), for the count's batching. */
  readonly #writtenAt = new Map<string, Date>();

  constructor(deps: StageReconcilerDeps) {
    this.#d = deps;
  }

  async reconcile(req: Request, ctx: ReconcileContext): Promise<Result> {
    const d = this.#d;
    const key = requestKey(req);
    const stage = d.stages.get(req.namespace, req.name);
    const invalid = stage ? undefined : d.stages.invalid?.(req.namespace, req.name);
    const any: AnyStage | undefined = stage ?? invalid?.object;
    if (!any) {
      d.refs.forget(key);
      d.checks.forget(key);
      this.#writtenAt.delete(key);
      return {};
    }
    if (any.metadata?.deletionTimestamp) return this.#finalize(any, key, ctx);
    if (!stage) {
      const now = d.clock.now();
      const decision = invalidSpec(any, invalid?.error.message ?? "unreadable");
      const status = composeStatus(any.metadata?.generation ?? 0, any.status?.conditions, decision, now);
      if (!statusEqual(status, any.status ?? {})) await d.writes.status(STAGES, any, status);
      return {};
    }
    // One finalizer change per pass: the next pass comes back through the informer.
    const finalizers = stage.metadata?.finalizers ?? [];
    if (finalizers.includes(LEGACY_EXECUTIONS_FINALIZER)) {
      await d.writes.finalizer(STAGES, stage, LEGACY_EXECUTIONS_FINALIZER, false);
      return {};
    }
    const wantDevicesFinalizer = stage.spec.deviceDeletionPolicy === "Delete";
    if (finalizers.includes(DEVICES_FINALIZER) !== wantDevicesFinalizer) {
      await d.writes.finalizer(STAGES, stage, DEVICES_FINALIZER, wantDevicesFinalizer);
      return {};
    }

    const spec = stage.spec;
    // Declared before they are read: a reference new to the tracker has not listed yet, and this
    // pass would read it as absent.
    if (!d.refs.track(key, refList(stageReferences(req.namespace, spec, d.global))))
      return { requeueAfterMs: REFERENCE_SYNC_RETRY_MS };
    const { settings, templateConfigMap } = gatherStageInputs(req.namespace, spec, d.global, (ref) => d.refs.get(ref));

    const live = (b: FlowBindingObject) => !b.metadata?.deletionTimestamp;
    const writtenAt = this.#writtenAt.get(key);
    const input: StageInput = {
      namespace: req.namespace,
      name: req.name,
      generation: stage.metadata?.generation ?? 0,
      spec,
      ...(stage.status ? { status: stage.status } : {}),
      settings,
      templateConfigMap,
      flows: d.relations
        .bindingsOfStage(req.namespace, req.name)
        .filter(live)
        .map((b) => b.spec.flow),
      deviceCount: d.relations.deviceCount(req.namespace, req.name),
      ...(writtenAt ? { statusWrittenAt: writtenAt } : {}),
      configureFlowBindings: spec.configureFlow
        ? d.relations
            .bindingsOfFlow(req.namespace, spec.configureFlow)
            .filter(live)
            .map((b) => ({ name: b.metadata?.name ?? "", stage: b.spec.stageRef.name, intent: b.spec.intent }))
        : [],
    };
    let plan = planStage(input, d.clock.now());
    let checkInMs: number | undefined;
    if (spec.connectionCheck.enabled && plan.settings) {
      const { result, nextInMs } = await d.checks.resultFor(
        key,
        plan.settings,
        spec.connectionCheck.intervalMinutes * 60_000,
      );
      plan = planStage({ ...input, connectionCheck: result }, d.clock.now());
      checkInMs = nextInMs;
    }
    if (plan.changed) {
      await d.writes.status(STAGES, stage, plan.status);
      this.#writtenAt.set(key, d.clock.now());
    }
    if (plan.event) await d.events.record(target(stage), plan.event.type, plan.event.reason, plan.event.message);
    ctx.log.debug(
      { ready: plan.status.conditions?.find((c) => c.type === "Ready")?.status, wrote: plan.changed },
      "reconciled stage",
    );
    const after = [checkInMs, plan.countDueInMs].filter((ms): ms is number => ms !== undefined);
    return after.length ? { requeueAfterMs: Math.min(...after) } : {};
  }

  /** Works from metadata alone, so a stage with a spec this operator cannot read can still go. */
  async #finalize(stage: AnyStage, key: string, ctx: ReconcileContext): Promise<Result> {
    const d = this.#d;
    const namespace = stage.metadata?.namespace ?? "";
    const name = stage.metadata?.name ?? "";
    const finalizers = stage.metadata?.finalizers ?? [];
    if (finalizers.includes(DEVICES_FINALIZER)) {
      const deleted = await d.deleteDevices(namespace, name);
      if (deleted)
        await d.events.record(
          target(stage),
          "Normal",
          "DevicesDeleted",
          `deleted ${deleted} EmailDevice(s) of the deleted stage (deviceDeletionPolicy Delete)`,
          "Delete",
        );
      ctx.log.info({ deleted }, "stage deleted; deleted its devices");
      await d.writes.finalizer(STAGES, stage, DEVICES_FINALIZER, false);
      return {}; // the next finalizer, if any, on the next pass
    }
    if (finalizers.includes(LEGACY_EXECUTIONS_FINALIZER)) {
      await d.writes.finalizer(STAGES, stage, LEGACY_EXECUTIONS_FINALIZER, false);
      return {};
    }
    d.refs.forget(key);
    d.checks.forget(key);
    this.#writtenAt.delete(key);
    return {};
  }
}

function target(stage: AnyStage) {
  const m = stage.metadata ?? {};
  return {
    apiVersion: stage.apiVersion ?? "",
    kind: STAGES.kind,
    namespace: m.namespace ?? "",
    name: m.name ?? "",
    ...(m.uid ? { uid: m.uid } : {}),
  };
}
