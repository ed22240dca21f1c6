// What sending a code for a stage needs, read fresh at send time on whichever replica serves
// the request: the stage (from the cache), its SMTP settings and Secrets (direct reads, so a
// rotated password is used at once), and its custom templates.
import type { CoreV1Api, V1ConfigMap, V1Secret } from "@kubernetes/client-node";
import { stageSpec, type StageSpec } from "../kinds/v1alpha1/stage.ts";
import { resolveSmtpSettings, type GlobalSettingsRef, type SmtpSettings } from "../email/settings.ts";
import { isNotFound } from "@emailauth/operator-runtime";
import type { CustomObject } from "@emailauth/operator-runtime";
import type { ObjectCache } from "@emailauth/operator-runtime";
import { refList, stageReferences } from "../controllers/stage/references.ts";
import type { ObjectRef } from "@emailauth/operator-runtime";

export interface StageContext {
  name: string;
  uid: string;
  spec: StageSpec;
  settings: SmtpSettings;
  templates?: { html: string; text: string };
}

export type StageContextResult = { ok: true; stage: StageContext } | { ok: false; detail: string };

export async function loadStageContext(
  core: CoreV1Api,
  stages: ObjectCache<CustomObject>,
  global: GlobalSettingsRef,
  namespace: string,
  name: string,
): Promise<StageContextResult> {
  const stage = stages.get(namespace, name);
  if (!stage || stage.metadata?.deletionTimestamp)
    return { ok: false, detail: `EmailAuthenticatorStage ${namespace}/${name} does not exist` };
  const parsed = stageSpec.safeParse(stage.spec);
  if (!parsed.success) return { ok: false, detail: `EmailAuthenticatorStage ${namespace}/${name} has an invalid spec` };
  const spec = parsed.data;
  const refs = stageReferences(namespace, spec, global);
  const found = new Map<ObjectRef, V1Secret | V1ConfigMap | null>();
  await Promise.all(refList(refs).map(async (ref) => found.set(ref, await read(core, ref))));
  const get = <T>(ref: ObjectRef | undefined) => (ref ? ((found.get(ref) ?? null) as T | null) : undefined);
  const resolution = resolveSmtpSettings({
    namespace,
    spec,
    global,
    globalConfigMap: get<V1ConfigMap>(refs.globalConfigMap),
    globalSecret: get<V1Secret>(refs.globalSecret),
    credentialsSecret: get<V1Secret>(refs.credentials),
    caSecret: get<V1Secret>(refs.ca),
  });
  if (!resolution.ok)
    return { ok: false, detail: `EmailAuthenticatorStage ${namespace}/${name} cannot send: ${resolution.message}` };
  let templates: StageContext["templates"];
  if (spec.templateRef) {
    const data = get<V1ConfigMap>(refs.template)?.data ?? {};
    const html = data[spec.templateRef.htmlKey];
    const text = data[spec.templateRef.textKey];
    if (html === undefined || text === undefined)
      return {
        ok: false,
        detail: `EmailAuthenticatorStage ${namespace}/${name}: its template ConfigMap ${spec.templateRef.name} is missing or incomplete`,
      };
    templates = { html, text };
  }
  return {
    ok: true,
    stage: {
      name,
      uid: stage.metadata?.uid ?? "",
      spec,
      settings: resolution.settings,
      ...(templates ? { templates } : {}),
    },
  };
}

async function read(core: CoreV1Api, ref: ObjectRef): Promise<V1Secret | V1ConfigMap | null> {
  try {
    return ref.kind === "Secret"
      ? await core.readNamespacedSecret({ namespace: ref.namespace, name: ref.name })
      : await core.readNamespacedConfigMap({ namespace: ref.namespace, name: ref.name });
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}
