// EmailAuthenticatorStage: gather (caches and the reference tracker), plan (policy.ts, pure),
// write once and only on change. Owns the finalizer that clears pending executions on delete.
import type { CoreV1Api, CustomObjectsApi, KubernetesObject } from "@kubernetes/client-node";
import { STAGE_FINALIZER, stageExecutionsSelector } from "../../kinds/labels.ts";
import type { EmailDeviceSpec } from "../../kinds/v1alpha1/emaildevice.ts";
import type { FlowBindingSpec } from "../../kinds/v1alpha1/flowbinding.ts";
import { stageSpec, type StageStatus } from "../../kinds/v1alpha1/stage.ts";
import type { GlobalSettingsRef } from "../../email/settings.ts";
import type { EventRecorder } from "@emailauth/operator-runtime";
import { deleteSecrets } from "../../k8s/execution-secrets.ts";
import { setFinalizer } from "@emailauth/operator-runtime";
import { type CustomObject } from "@emailauth/operator-runtime";
import { STAGES } from "../../k8s/custom-objects.ts";
import { writeStatus } from "@emailauth/operator-runtime";
import type { Clock } from "@emailauth/operator-runtime";
import { readinessConditions } from "@emailauth/operator-runtime";
import type { ObjectCache } from "@emailauth/operator-runtime";
import {
  requestKey,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
} from "@emailauth/operator-runtime";
import type { ReferenceTracker } from "@emailauth/operator-runtime";
import type { ConnectionChecks } from "./connection-checks.ts";
import { planStage, type StageInput } from "./policy.ts";
import { gatherStageInputs } from "../../stage/inputs.ts";
import { refList } from "../../stage/references.ts";

export type StageObject = CustomObject<unknown, StageStatus>;

export interface StageReconcilerDeps {
  stages: ObjectCache<StageObject>;
  bindings: ObjectCache<CustomObject<FlowBindingSpec>>;
  devices: ObjectCache<CustomObject<EmailDeviceSpec>>;
  refs: ReferenceTracker<KubernetesObject>;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  events: EventRecorder;
  checks: ConnectionChecks;
  clock: Clock;
  global: GlobalSettingsRef;
}

/** While a referenced object's watch has not listed yet. */
const REFERENCE_SYNC_RETRY_MS = 250;

export class StageReconciler implements Reconciler {
  readonly #d: StageReconcilerDeps;

  constructor(deps: StageReconcilerDeps) {
    this.#d = deps;
  }

  async reconcile(req: Request, ctx: ReconcileContext): Promise<Result> {
    const d = this.#d;
    const key = requestKey(req);
    const stage = d.stages.get(req.namespace, req.name);
    if (!stage) {
      d.refs.forget(key);
      d.checks.forget(key);
      return {};
    }
    if (stage.metadata?.deletionTimestamp) return this.#finalize(stage, key, ctx);
    if (!stage.metadata?.finalizers?.includes(STAGE_FINALIZER)) {
      await setFinalizer(d.custom, STAGES, stage, STAGE_FINALIZER, true);
      return {}; // the update comes back through the informer
    }

    const generation = stage.metadata.generation ?? 0;
    const parsed = stageSpec.safeParse(stage.spec);
    if (!parsed.success) {
      // Only objects stored before a schema change can get here; the API server checks the rest.
      const message = `the stored spec does not match this operator's schema: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`;
      const status = {
        observedGeneration: generation,
        conditions: readinessConditions(
          { generation, stalled: { reason: "InvalidSpec", message } },
          d.clock.now(),
          stage.status?.conditions,
        ),
      };
      await this.#write(stage, status);
      return {};
    }
    const spec = parsed.data;
    const { refs, settings, templateConfigMap } = gatherStageInputs(req.namespace, spec, d.global, (ref) =>
      d.refs.get(ref),
    );
    // A reference new to the tracker is not synced yet, so this pass (which read it as absent) is dropped.
    if (!d.refs.track(key, refList(refs))) return { requeueAfterMs: REFERENCE_SYNC_RETRY_MS };

    const input: StageInput = {
      generation,
      spec,
      ...(stage.status ? { status: stage.status } : {}),
      settings,
      templateConfigMap,
      flows: d.bindings
        .list(req.namespace)
        .filter((b) => b.spec?.stageRef.name === req.name)
        .map((b) => b.spec?.flow ?? ""),
      deviceCount: d.devices.list(req.namespace).filter((dev) => dev.spec?.stageRef.name === req.name).length,
    };
    let plan = planStage(input, d.clock.now());
    let requeueAfterMs: number | undefined;
    if (spec.connectionCheck.enabled && plan.settings) {
      const { result, nextInMs } = await d.checks.resultFor(
        key,
        plan.settings,
        spec.connectionCheck.intervalMinutes * 60_000,
      );
      plan = planStage({ ...input, connectionCheck: result }, d.clock.now());
      requeueAfterMs = nextInMs;
    }
    if (plan.changed) await this.#write(stage, plan.status);
    if (plan.event) await d.events.record(this.#target(stage), plan.event.type, plan.event.reason, plan.event.message);
    ctx.log.debug(
      { ready: plan.status.conditions?.find((c) => c.type === "Ready")?.status, wrote: plan.changed },
      "reconciled stage",
    );
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }

  async #finalize(stage: StageObject, key: string, ctx: ReconcileContext): Promise<Result> {
    const d = this.#d;
    const namespace = stage.metadata?.namespace ?? "";
    const name = stage.metadata?.name ?? "";
    if (stage.metadata?.finalizers?.includes(STAGE_FINALIZER)) {
      const deleted = await deleteSecrets(d.core, { namespace, labelSelector: stageExecutionsSelector(name) });
      if (deleted)
        await d.events.record(
          this.#target(stage),
          "Normal",
          "ExecutionsDeleted",
          `deleted ${deleted} pending execution(s) of the deleted stage`,
          "Delete",
        );
      ctx.log.info({ deleted }, "stage deleted; removed its pending executions, kept its devices");
      await setFinalizer(d.custom, STAGES, stage, STAGE_FINALIZER, false);
    }
    d.refs.forget(key);
    d.checks.forget(key);
    return {};
  }

  async #write(stage: StageObject, status: StageStatus): Promise<void> {
    const m = stage.metadata ?? {};
    await writeStatus(
      this.#d.custom,
      { resource: STAGES, namespace: m.namespace ?? "", name: m.name ?? "", resourceVersion: m.resourceVersion ?? "" },
      stage.status,
      status,
    );
  }

  #target(stage: StageObject) {
    const m = stage.metadata ?? {};
    return {
      apiVersion: stage.apiVersion ?? "",
      kind: STAGES.kind,
      namespace: m.namespace ?? "",
      name: m.name ?? "",
      ...(m.uid ? { uid: m.uid } : {}),
    };
  }
}
