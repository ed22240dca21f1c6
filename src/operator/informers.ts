// The informers the operator runs: one per kind, cluster-wide or one per watched namespace,
// joined into one cache per kind; and the factory of single-object watches for references.
import type { KubeClient, KubernetesObject } from "@emailauth/operator-runtime";
import type { Logger } from "pino";
import {
  createInformer,
  type Decoder,
  type Informer,
  type InformerMetrics,
  type Keyed,
} from "@emailauth/operator-runtime";
import type { CustomResource } from "@emailauth/operator-runtime";
import type { Clock } from "@emailauth/operator-runtime";
import { joinCaches, type ObjectCache } from "@emailauth/operator-runtime";
import type { ObjectRef, SingleObjectWatch, WatchFactory } from "@emailauth/operator-runtime";

export interface InformerDeps {
  kube: KubeClient;
  log: Logger;
  clock: Clock;
  metrics: InformerMetrics;
}

export interface KindInformers<T extends Keyed> {
  informers: Informer<T>[];
  cache: ObjectCache<T>;
}

/**
 * `namespaces` empty: one cluster-wide informer. With `decode` the cache holds decoded objects
 * and keeps those that fail apart, readable through `cache.invalid`.
 */
export function kindInformers<T extends Keyed>(
  deps: InformerDeps,
  resource: CustomResource,
  namespaces: readonly string[],
  decode?: Decoder<T>,
): KindInformers<T> {
  const make = (namespace?: string) =>
    createInformer<T>(
      deps.kube,
      {
        group: resource.group,
        version: resource.version,
        plural: resource.plural,
        ...(namespace ? { namespace } : {}),
      },
      { log: deps.log, clock: deps.clock, metrics: deps.metrics, ...(decode ? { decode } : {}) },
    );
  if (namespaces.length === 0) {
    const informer = make();
    return {
      informers: [informer],
      cache: {
        get: (ns, name) => informer.get(ns, name),
        list: (ns) => informer.list(ns),
        invalid: (ns, name) => informer.invalid(ns, name),
      },
    };
  }
  const byNamespace = new Map(namespaces.map((ns) => [ns, make(ns)] as const));
  return { informers: [...byNamespace.values()], cache: joinCaches(byNamespace) };
}

/** A watch on one Secret or ConfigMap, selected by name: what RBAC and memory can afford. */
export function singleObjectWatches(deps: InformerDeps): WatchFactory<KubernetesObject> {
  return (ref: ObjectRef, onChange: () => void): SingleObjectWatch<KubernetesObject> => {
    const plural = ref.kind === "Secret" ? "secrets" : "configmaps";
    const informer = createInformer<KubernetesObject>(
      deps.kube,
      { group: "", version: "v1", plural, namespace: ref.namespace },
      {
        log: deps.log,
        clock: deps.clock,
        metrics: deps.metrics,
        fieldSelector: `metadata.name=${ref.name}`,
        resyncPeriodMs: 0,
      },
    );
    informer.onAdd(onChange).onUpdate(onChange).onDelete(onChange);
    informer.start();
    return {
      hasSynced: () => informer.hasSynced(),
      get: () => informer.get(ref.namespace, ref.name) ?? null,
      stop: () => informer.stop(),
    };
  };
}
