// Small helpers for tests that drive the operator through the API server: create, read, and
// wait until an object reaches a state (polling: simple, and fast enough on loopback).
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import type { Condition } from "@emailauth/operator-runtime";
import { waitFor } from "./wait.ts";

export type Plural = "emailauthenticatorstages" | "flowbindings" | "emaildevices";
const KINDS: Record<Plural, string> = {
  emailauthenticatorstages: "EmailAuthenticatorStage",
  flowbindings: "FlowBinding",
  emaildevices: "EmailDevice",
};

export interface TestObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    generation: number;
    resourceVersion: string;
    uid: string;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  spec: Record<string, unknown>;
  status?: { observedGeneration?: number; conditions?: Condition[] } & Record<string, unknown>;
}

export function objects(kc: KubeConfig, namespace: string) {
  const api = kc.makeApiClient(CustomObjectsApi);
  const at = (plural: Plural, name: string) => ({ group: GROUP, version: VERSION, namespace, plural, name });
  const get = async (plural: Plural, name: string): Promise<TestObject | undefined> => {
    try {
      return (await api.getNamespacedCustomObject(at(plural, name))) as TestObject;
    } catch (e) {
      if ((e as { code?: number }).code === 404) return undefined;
      throw e;
    }
  };
  return {
    create: async (plural: Plural, name: string, spec: unknown) =>
      (await api.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural,
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: KINDS[plural], metadata: { name }, spec },
      })) as TestObject,
    get,
    delete: (plural: Plural, name: string) => api.deleteNamespacedCustomObject(at(plural, name)),
    /** Waits until `ok` holds for the object (absent objects are passed as undefined). */
    waitFor: (
      plural: Plural,
      name: string,
      ok: (o: TestObject | undefined) => boolean,
      what: string,
      timeoutMs = 20_000,
    ) =>
      waitFor(
        async () => {
          const o = await get(plural, name);
          return ok(o) ? (o ?? ({} as TestObject)) : undefined;
        },
        { what: `${plural}/${name}: ${what}`, timeoutMs, intervalMs: 100 },
      ),
  };
}

export const condition = (o: TestObject | undefined, type = "Ready"): Condition | undefined =>
  o?.status?.conditions?.find((c) => c.type === type);

/** Ready has the wanted status and describes the current generation. */
export const readyIs = (status: "True" | "False" | "Unknown", reason?: string) => (o: TestObject | undefined) => {
  const c = condition(o);
  return (
    !!o &&
    o.status?.observedGeneration === o.metadata.generation &&
    c?.status === status &&
    (reason === undefined || c.reason === reason)
  );
};
