// What a stage reads besides itself: the Secrets and ConfigMaps its spec names, or the global
// settings. The reconciler declares exactly these to the reference tracker (one watch each),
// and both it and the API read them from that tracker's caches.
import type { KubernetesObject } from "@emailauth/operator-runtime";
import type { ObjectRef } from "@emailauth/operator-runtime";
import type { GlobalSettingsRef } from "../email/settings.ts";
import type { StageSpec } from "../kinds/v1alpha1/stage.ts";

export interface StageRefs {
  credentials?: ObjectRef;
  ca?: ObjectRef;
  template?: ObjectRef;
  globalConfigMap?: ObjectRef;
  globalSecret?: ObjectRef;
}

/** A cached referenced object: null when it does not exist, undefined when not (yet) known. */
export type RefLookup = (ref: ObjectRef) => KubernetesObject | null | undefined;

export function stageReferences(namespace: string, spec: StageSpec, global: GlobalSettingsRef): StageRefs {
  const refs: StageRefs = {};
  if (spec.templateRef) refs.template = { kind: "ConfigMap", namespace, name: spec.templateRef.name };
  if (spec.useGlobalSettings) {
    refs.globalConfigMap = { kind: "ConfigMap", namespace: global.namespace, name: global.configMap };
    if (global.secret) refs.globalSecret = { kind: "Secret", namespace: global.namespace, name: global.secret };
    return refs;
  }
  const c = spec.connection;
  if (c.credentialsSecretRef) refs.credentials = { kind: "Secret", namespace, name: c.credentialsSecretRef.name };
  if (c.caBundleSecretRef) refs.ca = { kind: "Secret", namespace, name: c.caBundleSecretRef.name };
  return refs;
}

export const refList = (refs: StageRefs): ObjectRef[] =>
  Object.values(refs).filter((r): r is ObjectRef => r !== undefined);
