// Every ConfigMap labelled app=greeter gets an annotation greeting the name in its data.
import { pino, type Logger } from "pino";
import { z } from "zod";
import {
  Controller,
  coreApi,
  createInformer,
  KubeClient,
  loadKubeConfig,
  type Reconciler,
  systemClock,
} from "@emailauth/operator-runtime";

const Greeter = z.object({
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string(),
    annotations: z.record(z.string(), z.string()).optional(),
  }),
  data: z.object({ name: z.string().min(1) }),
});
const ANNOTATION = "example.dev/greeting";

export async function startGreeter(kube: KubeClient, log: Logger): Promise<() => Promise<void>> {
  const core = coreApi(kube);
  const configMaps = createInformer(
    kube,
    { group: "", version: "v1", plural: "configmaps" },
    { decode: Greeter, log, labelSelector: "app=greeter" },
  );
  const reconciler: Reconciler = {
    async reconcile({ namespace, name }) {
      const cm = configMaps.get(namespace, name); // typed: cm.data.name is a non-empty string
      if (!cm) return {};
      const greeting = `Hello, ${cm.data.name}!`;
      if (cm.metadata.annotations?.[ANNOTATION] === greeting) return {};
      const body = { metadata: { annotations: { [ANNOTATION]: greeting } } };
      await core.patchNamespacedConfigMap({ namespace, name, body }); // a JSON merge patch
      return {};
    },
  };
  const controller = new Controller({ name: "greeter", reconciler, log, clock: systemClock });
  configMaps.onAdd((cm) => controller.enqueue(cm.metadata)).onUpdate((_, cm) => controller.enqueue(cm.metadata));
  configMaps.onInvalid(({ object, error }) =>
    log.warn({ name: object.metadata?.name, reason: error.message }, "not a greeter"),
  );
  configMaps.start();
  if (await configMaps.waitForSync()) controller.start();
  return async () => {
    await controller.stop(10_000);
    await configMaps.stop();
  };
}

if (import.meta.main) {
  const kube = new KubeClient(loadKubeConfig());
  const stop = await startGreeter(kube, pino());
  process.once("SIGTERM", () => void stop());
}
