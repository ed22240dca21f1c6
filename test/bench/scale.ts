// Stages and bindings: how long until the operator has them Ready, against the floor of the
// same creates plus one status write each (the least any controller must do), made by the same
// client at the same concurrency in a namespace the operator does not watch.
import { type CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import { median, runPool } from "./pool.ts";
import { ReadyWatch } from "./ready-watch.ts";

const STAGES = "emailauthenticatorstages";
const BINDINGS = "flowbindings";
const KIND = { [STAGES]: "EmailAuthenticatorStage", [BINDINGS]: "FlowBinding" } as const;
type Plural = keyof typeof KIND;
const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export interface ScaleOptions {
  kc: KubeConfig;
  custom: CustomObjectsApi;
  /** Watched by the operator. */
  namespace: string;
  /** Not watched: where the floor writes. */
  floorNamespace: string;
  log: (message: string) => void;
}

const stageSpec = { useGlobalSettings: true, subject: "Your sign-in code", friendlyName: "Email code" };
const bindingSpec = (stage: string, flow: string, intent: string) => ({
  flow,
  order: 10,
  stageRef: { name: stage },
  intent,
});

function readyStatus(plural: Plural): Record<string, unknown> {
  const at = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const condition = (type: string, status: string, reason: string) => ({
    type,
    status,
    reason,
    message: `${type} is ${status}`,
    observedGeneration: 1,
    lastTransitionTime: at,
  });
  return {
    observedGeneration: 1,
    conditions: [
      condition("Ready", "True", "Ready"),
      condition("Stalled", "False", "Ready"),
      condition("Reconciling", "False", "Ready"),
    ],
    ...(plural === STAGES
      ? {
          connection: { endpoint: "127.0.0.1:25", tlsMode: "None", source: "Global" },
          flows: ["a", "b"],
          deviceCount: 0,
        }
      : {}),
  };
}

/** The objects of `count` stages: each stage then its two bindings (enroll and sign-in), as a directory applies. */
function objectsFor(prefix: string, count: number): { plural: Plural; name: string; spec: unknown }[] {
  return Array.from({ length: count }, (_, i) => {
    const stage = `${prefix}-${i}`;
    return [
      { plural: STAGES, name: stage, spec: stageSpec },
      { plural: BINDINGS, name: `${stage}-enroll`, spec: bindingSpec(stage, `${stage}-enroll`, "Setup") },
      { plural: BINDINGS, name: `${stage}-sign-in`, spec: bindingSpec(stage, `${stage}-sign-in`, "Authenticate") },
    ] as const;
  }).flat();
}

export class Scale {
  readonly #o: ScaleOptions;

  constructor(o: ScaleOptions) {
    this.#o = o;
  }

  #create(namespace: string, plural: Plural, name: string, spec: unknown): Promise<unknown> {
    return this.#o.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: KIND[plural], metadata: { name }, spec },
    });
  }

  #writeStatus(plural: Plural, name: string): Promise<unknown> {
    return this.#o.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: this.#o.floorNamespace,
        plural,
        name,
        body: { status: readyStatus(plural) },
      },
      mergePatch,
    );
  }

  /** One stage at a time: created → Ready, against create + status write. Median ms of each. */
  async singleStage(rounds: number): Promise<{ operatorMs: number; floorMs: number }> {
    const watch = await ReadyWatch.start(this.#o.kc, this.#o.namespace, [STAGES]);
    const operator: number[] = [];
    const floor: number[] = [];
    try {
      for (let i = 0; i < rounds; i++) {
        const name = `single-${i}`;
        let t = performance.now();
        await this.#create(this.#o.floorNamespace, STAGES, name, stageSpec);
        await this.#writeStatus(STAGES, name);
        floor.push(performance.now() - t);
        t = performance.now();
        await this.#create(this.#o.namespace, STAGES, name, stageSpec);
        await watch.until((w) => w.has(STAGES, name), `stage ${name} Ready`, 30_000);
        operator.push(performance.now() - t);
      }
    } finally {
      watch.stop();
    }
    return { operatorMs: median(operator), floorMs: median(floor) };
  }

  /** `stages` stages and twice as many bindings applied at once: ms until all are Ready, and the floor's ms. */
  async applyAll(stages: number, concurrency: number): Promise<{ operatorMs: number; floorMs: number }> {
    const { log } = this.#o;
    const floorObjects = objectsFor("floor", stages);
    let t = performance.now();
    await runPool(
      floorObjects.length,
      concurrency,
      async (i) => {
        const o = floorObjects[i] as (typeof floorObjects)[number];
        await this.#create(this.#o.floorNamespace, o.plural, o.name, o.spec);
        await this.#writeStatus(o.plural, o.name);
      },
      (done) => log(`floor: ${done}/${floorObjects.length} objects created with a status`),
    );
    const floorMs = performance.now() - t;

    const objects = objectsFor("many", stages);
    const ready = await ReadyWatch.start(this.#o.kc, this.#o.namespace, [STAGES, BINDINGS], "many-");
    try {
      t = performance.now();
      await runPool(
        objects.length,
        concurrency,
        async (i) => {
          const o = objects[i] as (typeof objects)[number];
          await this.#create(this.#o.namespace, o.plural, o.name, o.spec);
        },
        (done) => log(`operator: ${done}/${objects.length} objects created`),
      );
      log(`operator: all created after ${((performance.now() - t) / 1000).toFixed(1)} s; waiting for Ready`);
      let reported = 0;
      await ready.until(
        (w) => {
          if (w.count - reported >= objects.length / 10) {
            reported = w.count;
            log(`operator: ${w.count}/${objects.length} Ready`);
          }
          return w.count >= objects.length;
        },
        `${objects.length} stages and bindings Ready`,
        Math.max(120_000, stages * 600),
      );
      return { operatorMs: performance.now() - t, floorMs };
    } finally {
      ready.stop();
    }
  }
}
