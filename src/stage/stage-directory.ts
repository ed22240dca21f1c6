// The stage as the API path sees it, on every replica: its spec and uid from the stage informer,
// its SMTP settings and templates resolved from the same reference watches the reconciler uses
// (no GET per send). A stage first used on this replica waits briefly for its watches to list.
import type { KubernetesObject } from "@emailauth/operator-runtime";
import type { CustomObject, ObjectCache, ReferenceTracker } from "@emailauth/operator-runtime";
import { resolveSmtpSettings, type GlobalSettingsRef, type SmtpSettings } from "../email/settings.ts";
import { stageSpec, type StageSpec } from "../kinds/v1alpha1/stage.ts";
import { gatherStageInputs } from "./inputs.ts";
import { refList, stageReferences } from "./references.ts";
import { stageTemplates } from "./templates.ts";

export interface StageContext {
  name: string;
  uid: string;
  spec: StageSpec;
  settings: SmtpSettings;
  templates?: { html: string; text: string };
}

export type StageContextResult = { ok: true; stage: StageContext } | { ok: false; detail: string };

export interface StageDirectoryOptions {
  stages: ObjectCache<CustomObject>;
  references: ReferenceTracker<KubernetesObject>;
  global: GlobalSettingsRef;
  /** How long a first use waits for the reference watches to list. */
  syncTimeoutMs?: number;
}

const SYNC_POLL_MS = 10;

export class StageDirectory {
  readonly #o: StageDirectoryOptions;
  /**
   * Parsed once per version of a stage: the cache replaces an object when it changes, so the
   * object itself is the key (null: its spec is invalid).
   */
  readonly #parsed = new WeakMap<CustomObject, { uid: string; spec: StageSpec } | null>();

  constructor(options: StageDirectoryOptions) {
    this.#o = options;
  }

  /** The stage's parsed spec and uid, or undefined if it is missing, deleted or invalid. */
  get(namespace: string, name: string): { uid: string; spec: StageSpec } | undefined {
    const stage = this.#o.stages.get(namespace, name);
    if (!stage || stage.metadata?.deletionTimestamp || !stage.metadata?.uid) return undefined;
    let entry = this.#parsed.get(stage);
    if (entry === undefined) {
      const parsed = stageSpec.safeParse(stage.spec);
      entry = parsed.success ? { uid: stage.metadata.uid, spec: parsed.data } : null;
      this.#parsed.set(stage, entry);
    }
    return entry ?? undefined;
  }

  /** Everything sending a code needs, or why the stage cannot send now. */
  async sendContext(namespace: string, name: string): Promise<StageContextResult> {
    const what = `EmailAuthenticatorStage ${namespace}/${name}`;
    const stage = this.get(namespace, name);
    if (!stage) return { ok: false, detail: `${what} does not exist or has an invalid spec` };
    const { references, global } = this.#o;
    // The reconciler tracks the same owner key with the same references (both come from the
    // spec in the same cache), so this only adds watches on a replica that does not lead.
    const refs = refList(stageReferences(namespace, stage.spec, global));
    if (!(await this.#synced(() => references.track(`${namespace}/${name}`, refs))))
      return { ok: false, detail: `${what}: its referenced Secrets and ConfigMaps are not loaded yet` };
    const inputs = gatherStageInputs(namespace, stage.spec, global, (ref) => references.get(ref));
    const resolution = resolveSmtpSettings(inputs.settings);
    if (!resolution.ok) return { ok: false, detail: `${what} cannot send: ${resolution.message}` };
    const templates = stageTemplates(namespace, stage.spec, inputs.templateConfigMap);
    if (!templates.ok) return { ok: false, detail: `${what} cannot send: ${templates.message}` };
    return {
      ok: true,
      stage: {
        name,
        uid: stage.uid,
        spec: stage.spec,
        settings: resolution.settings,
        ...(templates.templates ? { templates: templates.templates } : {}),
      },
    };
  }

  async #synced(track: () => boolean): Promise<boolean> {
    const deadline = Date.now() + (this.#o.syncTimeoutMs ?? 5_000);
    for (;;) {
      if (track()) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, SYNC_POLL_MS));
    }
  }
}
