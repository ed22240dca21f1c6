// The one place that gathers what resolving a stage's SMTP settings and templates needs, from
// the referenced objects as the caches hold them. The reconciler (status) and the API (sending)
// both start here, so they can never disagree about which object feeds which setting.
import type { ConfigMap, Secret } from "@emailauth/operator-runtime";
import type { GlobalSettingsRef, SettingsInput } from "../email/settings.ts";
import type { StageSpec } from "../kinds/v1alpha1/stage.ts";
import { type RefLookup, type StageRefs, stageReferences } from "./references.ts";

export interface StageInputs {
  refs: StageRefs;
  settings: SettingsInput;
  /** null: referenced and absent; undefined: no templateRef. */
  templateConfigMap: ConfigMap | null | undefined;
}

export function gatherStageInputs(
  namespace: string,
  spec: StageSpec,
  global: GlobalSettingsRef,
  lookup: RefLookup,
): StageInputs {
  const refs = stageReferences(namespace, spec, global);
  const get = <T>(ref: StageRefs[keyof StageRefs]) => (ref ? ((lookup(ref) ?? null) as T | null) : undefined);
  return {
    refs,
    settings: {
      namespace,
      spec,
      global,
      globalConfigMap: get<ConfigMap>(refs.globalConfigMap),
      globalSecret: get<Secret>(refs.globalSecret),
      credentialsSecret: get<Secret>(refs.credentials),
      caSecret: get<Secret>(refs.ca),
    },
    templateConfigMap: get<ConfigMap>(refs.template),
  };
}
