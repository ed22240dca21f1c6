// The operator's lifecycle, like controller-runtime's manager: informers run on every replica
// (main's health server reports their sync); controllers, the reference watches and the sweeper
// only while this replica leads. Shutdown is ordered: controllers drain, the lease is released,
// then the rest.
import { coreApi, customObjectsApi, type KubeClient, type KubernetesObject } from "@emailauth/operator-runtime";
import type { Logger } from "pino";
import type { OperatorConfig } from "../config/config.ts";
import { EmailDeviceReconciler } from "../controllers/emaildevice/reconciler.ts";
import { FlowBindingReconciler } from "../controllers/flowbinding/reconciler.ts";
import { apiWrites } from "../controllers/object-writes.ts";
import { ConnectionChecks } from "../controllers/stage/connection-checks.ts";
import { StageReconciler } from "../controllers/stage/reconciler.ts";
import { stageDeviceDeleter } from "../controllers/stage/stage-devices.ts";
import { Sweeper } from "../controllers/sweeper/sweeper.ts";
import { checkConnection } from "../email/transport.ts";
import { eventRecorder } from "@emailauth/operator-runtime";
import type { Informer } from "@emailauth/operator-runtime";
import { EMAIL_DEVICES, FLOW_BINDINGS, STAGES } from "../k8s/custom-objects.ts";
import { type Clock, systemClock } from "@emailauth/operator-runtime";
import { Controller } from "@emailauth/operator-runtime";
import type { ReadinessCheck } from "@emailauth/operator-runtime";
import { OperatorMetrics } from "./metrics.ts";
import { ReferenceTracker } from "@emailauth/operator-runtime";
import {
  decodeEmailDevice,
  decodeFlowBinding,
  decodeStage,
  type EmailDeviceObject,
  type FlowBindingObject,
  type StageObject,
} from "../kinds/v1alpha1/objects.ts";
import { kindInformers, singleObjectWatches } from "./informers.ts";
import type { RelatedObjects } from "./related-objects.ts";
import { type Caches, type Enqueuers, type KindInformerLists, STAGE_COUNT_DELAY_MS, wireInformers } from "./wiring.ts";

export interface OperatorOptions {
  config: OperatorConfig;
  kube: KubeClient;
  log: Logger;
  clock?: Clock;
}

/** What runs only on the leader; built anew each time leadership is acquired. */
interface LeaderWork {
  controllers: Controller[];
  enqueue: Enqueuers;
  refs: ReferenceTracker<KubernetesObject>;
  sweeper: Sweeper;
}

export class Operator {
  readonly metrics = new OperatorMetrics();
  readonly #o: OperatorOptions;
  readonly #clock: Clock;
  readonly #informers: KindInformerLists;
  readonly #caches: Caches;
  /** Indexes over the caches (a stage's bindings and devices, …), kept by the informers' events. */
  readonly #related: RelatedObjects;
  #leader: LeaderWork | undefined;
  readonly #references: ReferenceTracker<KubernetesObject>;

  constructor(options: OperatorOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    const deps = { kube: options.kube, log: options.log, clock: this.#clock, metrics: this.metrics };
    const ns = options.config.namespaces;
    // Decoded once on arrival: the caches hold typed objects with the schema's defaults; one
    // whose spec the schema refuses is kept apart and reported Stalled by its controller.
    const stages = kindInformers<StageObject>(deps, STAGES, ns, decodeStage);
    const bindings = kindInformers<FlowBindingObject>(deps, FLOW_BINDINGS, ns, decodeFlowBinding);
    const devices = kindInformers<EmailDeviceObject>(deps, EMAIL_DEVICES, ns, decodeEmailDevice);
    this.#informers = { stages: stages.informers, bindings: bindings.informers, devices: devices.informers };
    this.#caches = { stages: stages.cache, bindings: bindings.cache, devices: devices.cache };
    this.#related = wireInformers(this.#informers, () => this.#leader?.enqueue);
    // One watch per referenced Secret or ConfigMap, on every replica: the API sends with the
    // settings it holds, and while this replica leads, a change re-enqueues the stages using it.
    this.#references = new ReferenceTracker<KubernetesObject>(singleObjectWatches(deps), (owners) => {
      for (const key of owners) {
        const slash = key.indexOf("/");
        this.#leader?.enqueue.stage({ namespace: key.slice(0, slash), name: key.slice(slash + 1) });
      }
    });
  }

  /** Read access for the HTTP API, which every replica serves. */
  get caches() {
    const related = this.#related;
    return {
      stages: this.#caches.stages,
      references: this.#references,
      flowBindings: { of: (namespace: string, flow: string) => related.bindingsOfFlow(namespace, flow) },
      userDevices: {
        of: (namespace: string, stage: string, userId: string) => related.devicesOfUser(namespace, stage, userId),
      },
    };
  }

  /** What /readyz waits for: every informer's first sync. */
  readinessChecks(): ReadinessCheck[] {
    return this.allInformers().map((i) => ({ name: `informer ${i.name}`, ready: () => i.hasSynced() }));
  }

  allInformers(): (Informer<StageObject> | Informer<FlowBindingObject> | Informer<EmailDeviceObject>)[] {
    return [...this.#informers.stages, ...this.#informers.bindings, ...this.#informers.devices];
  }

  /** Starts the informers; resolves once the caches have synced. */
  async start(): Promise<void> {
    const informers = this.allInformers();
    for (const i of informers) i.start();
    await Promise.all(informers.map((i) => i.waitForSync()));
    if (!informers.every((i) => i.hasSynced())) return; // stopped before they synced
    this.#o.log.info(
      { namespaces: this.#o.config.namespaces.length ? this.#o.config.namespaces : "all" },
      "caches synced",
    );
  }

  /** Called when this replica becomes the leader (or at once without leader election). */
  startLeading(): void {
    if (this.#leader) return;
    const { kube, log, config } = this.#o;
    const clock = this.#clock;
    const custom = customObjectsApi(kube);
    const core = coreApi(kube);
    const events = eventRecorder(kube, {
      component: "emailauth.dev/operator",
      instance: config.leaderElection.identity,
      clock,
      log,
    });
    const global = {
      namespace: config.globalSettings.namespace,
      configMap: config.globalSettings.configMapName,
      secret: config.globalSettings.credentialsSecretName,
    };
    const controller = (name: string, reconciler: ConstructorParameters<typeof Controller>[0]["reconciler"]) =>
      new Controller({ name, reconciler, log, clock, metrics: this.metrics, workers: 2 });
    const refs = this.#references;
    const c = this.#caches;
    const writes = apiWrites(custom);
    const stages = controller(
      "emailauthenticatorstage",
      new StageReconciler({
        stages: c.stages,
        relations: this.#related,
        refs,
        writes,
        deleteDevices: stageDeviceDeleter(custom),
        events,
        checks: new ConnectionChecks(checkConnection, clock),
        clock,
        global,
      }),
    );
    const bindings = controller(
      "flowbinding",
      new FlowBindingReconciler({ bindings: c.bindings, stages: c.stages, related: this.#related, writes, clock }),
    );
    const devices = controller(
      "emaildevice",
      new EmailDeviceReconciler({ devices: c.devices, stages: c.stages, related: this.#related, writes, clock }),
    );
    // Records and counters of every stage live in the operator's namespace (api-server.ts).
    const sweeper = new Sweeper({
      core,
      clock,
      log,
      namespace: config.operatorNamespace,
      batchSize: config.sweeper.batchSize,
      intervalMs: config.sweeper.intervalMs,
    });
    const enqueue: Enqueuers = {
      stage: (r) => stages.enqueue(r),
      stageCount: (r) => stages.enqueueAfter(r, STAGE_COUNT_DELAY_MS),
      binding: (r) => bindings.enqueue(r),
      device: (r) => devices.enqueue(r),
    };
    this.#leader = { controllers: [stages, bindings, devices], enqueue, refs, sweeper };
    for (const ctrl of this.#leader.controllers) ctrl.start();
    sweeper.start();
    // Everything the informers delivered while this replica followed.
    for (const o of c.stages.list()) enqueue.stage(key(o));
    for (const o of c.bindings.list()) enqueue.binding(key(o));
    for (const o of c.devices.list()) enqueue.device(key(o));
    this.metrics.leader.set(1);
    log.info("leading: controllers started");
  }

  /** Stops the leader-only work; reconciles in flight get `shutdownTimeoutMs` to finish. */
  async stopLeading(): Promise<void> {
    const work = this.#leader;
    if (!work) return;
    this.#leader = undefined;
    await work.sweeper.stop();
    await Promise.all(work.controllers.map((c) => c.stop(this.#o.config.shutdownTimeoutMs)));
    this.metrics.leader.set(0);
    this.#o.log.info("stopped leading: controllers stopped");
  }

  async stop(): Promise<void> {
    await this.stopLeading();
    await Promise.all(this.allInformers().map((i) => i.stop()));
    await this.#references.stop();
  }
}

const key = (o: { metadata?: { namespace?: string; name?: string } }) => ({
  namespace: o.metadata?.namespace ?? "",
  name: o.metadata?.name ?? "",
});
