// Reads multi-document YAML and creates the objects with a given identity.
import { readFileSync } from "node:fs";
import { type KubeConfig, KubernetesObjectApi, type KubernetesObject, loadAllYaml } from "@kubernetes/client-node";

/**
 * Typed deserialisation matters: the client serialises built-in kinds through its generated
 * models, and a plain object's `enum`, `default` or `x-kubernetes-validations` keys (models'
 * `_enum`, `_default`, `x_kubernetes_validations`) would be dropped without a word.
 */
export function readManifests(path: string): KubernetesObject[] {
  return loadAllYaml(readFileSync(path, "utf8")).filter(
    (d): d is KubernetesObject => d !== null && typeof d === "object",
  );
}

/** Creates each object in order; objects that already exist are left as they are. */
export async function createAll(kc: KubeConfig, objects: KubernetesObject[]): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kc);
  for (const object of objects) {
    try {
      await api.create(object);
    } catch (e) {
      if ((e as { code?: number }).code !== 409) throw e;
    }
  }
}
