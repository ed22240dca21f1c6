// The API calls an operator makes, one line each over KubeClient. Names and parameter objects
// follow @kubernetes/client-node's generated APIs, so code and docs written against it read the
// same; bodies are plain JSON both ways and every PATCH is a JSON merge patch.
import type { KubeClient, Query } from "./kube-client.ts";
import { collectionPath, type ResourceRef } from "./resource.ts";
import type {
  ConfigMap,
  DeleteOptions,
  KubernetesListObject,
  KubernetesObject,
  Lease,
  Secret,
  Status,
  SubjectAccessReviewStatus,
  TokenReviewStatus,
} from "./kube-types.ts";

export const MERGE_PATCH = "application/merge-patch+json";
/** What a metadata-only list asks for, plain JSON as the fallback (as client-go's metadata client). */
const METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

interface Named {
  namespace: string;
  name: string;
}

interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

/** Per-call options: a timeout bounds the request (a dead connection must not hold a caller forever). */
export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The collection's path (resource.ts checks its segments), then an object's name and a subresource. */
const path = (ref: ResourceRef, name?: string, subresource?: string): string =>
  collectionPath(ref) +
  (name === undefined ? "" : `/${encodeURIComponent(name)}`) +
  (subresource ? `/${subresource}` : "");
const core = (namespace: string, plural: string, name?: string): string =>
  path({ group: "", version: "v1", plural, namespace }, name);
const listQuery = (q: ListQuery): Query => ({ ...q });

export interface CoreApi {
  readNamespacedSecret(p: Named, o?: CallOptions): Promise<Secret>;
  createNamespacedSecret(p: { namespace: string; body: Secret }, o?: CallOptions): Promise<Secret>;
  replaceNamespacedSecret(p: Named & { body: Secret }, o?: CallOptions): Promise<Secret>;
  deleteNamespacedSecret(p: Named & { body?: DeleteOptions }, o?: CallOptions): Promise<Status>;
  listNamespacedSecret(p: { namespace: string } & ListQuery, o?: CallOptions): Promise<KubernetesListObject<Secret>>;
  /**
   * The same list, each item its metadata alone (no data): a third of the bytes for the API server
   * to encode and the caller to parse. A server that cannot answer so sends whole objects.
   */
  listNamespacedSecretMetadata(
    p: { namespace: string } & ListQuery,
    o?: CallOptions,
  ): Promise<KubernetesListObject<KubernetesObject>>;
  readNamespacedConfigMap(p: Named, o?: CallOptions): Promise<ConfigMap>;
  /** A JSON merge patch. */
  patchNamespacedConfigMap(p: Named & { body: object }, o?: CallOptions): Promise<ConfigMap>;
}

export function coreApi(client: KubeClient): CoreApi {
  return {
    readNamespacedSecret: (p, o) => client.request("GET", core(p.namespace, "secrets", p.name), o),
    createNamespacedSecret: (p, o) => client.request("POST", core(p.namespace, "secrets"), { ...o, body: p.body }),
    replaceNamespacedSecret: (p, o) =>
      client.request("PUT", core(p.namespace, "secrets", p.name), { ...o, body: p.body }),
    deleteNamespacedSecret: (p, o) =>
      client.request("DELETE", core(p.namespace, "secrets", p.name), { ...o, body: p.body }),
    listNamespacedSecret: ({ namespace, ...q }, o) =>
      client.request("GET", core(namespace, "secrets"), { ...o, query: listQuery(q) }),
    listNamespacedSecretMetadata: async ({ namespace, ...q }, o) => {
      const list = await client.request<KubernetesListObject<KubernetesObject>>("GET", core(namespace, "secrets"), {
        ...o,
        query: listQuery(q),
        accept: METADATA_LIST,
      });
      // The API server sends an empty PartialObjectMetadataList with "items": null.
      return { ...list, items: list.items ?? [] };
    },
    readNamespacedConfigMap: (p, o) => client.request("GET", core(p.namespace, "configmaps", p.name), o),
    patchNamespacedConfigMap: (p, o) =>
      client.request("PATCH", core(p.namespace, "configmaps", p.name), {
        ...o,
        body: p.body,
        contentType: MERGE_PATCH,
      }),
  };
}

export interface CustomCollection {
  group: string;
  version: string;
  plural: string;
  namespace: string;
}

export interface CustomObjectsApi {
  getNamespacedCustomObject(p: CustomCollection & { name: string }, o?: CallOptions): Promise<unknown>;
  /** Strict: unknown or duplicate fields are refused instead of dropped. */
  createNamespacedCustomObject(
    p: CustomCollection & { body: object; fieldValidation?: "Strict" | "Warn" | "Ignore" },
    o?: CallOptions,
  ): Promise<unknown>;
  /** A JSON merge patch of the object. */
  patchNamespacedCustomObject(p: CustomCollection & { name: string; body: object }, o?: CallOptions): Promise<unknown>;
  /** A JSON merge patch of the status subresource. */
  patchNamespacedCustomObjectStatus(
    p: CustomCollection & { name: string; body: object },
    o?: CallOptions,
  ): Promise<unknown>;
  deleteNamespacedCustomObject(
    p: CustomCollection & { name: string; body?: DeleteOptions },
    o?: CallOptions,
  ): Promise<unknown>;
  listNamespacedCustomObject(
    p: CustomCollection & ListQuery,
    o?: CallOptions,
  ): Promise<KubernetesListObject<KubernetesObject>>;
}

const custom = (c: CustomCollection, name?: string, subresource?: string): string =>
  path({ group: c.group, version: c.version, plural: c.plural, namespace: c.namespace }, name, subresource);

export function customObjectsApi(client: KubeClient): CustomObjectsApi {
  return {
    getNamespacedCustomObject: (p, o) => client.request("GET", custom(p, p.name), o),
    createNamespacedCustomObject: (p, o) =>
      client.request("POST", custom(p), { ...o, body: p.body, query: { fieldValidation: p.fieldValidation } }),
    patchNamespacedCustomObject: (p, o) =>
      client.request("PATCH", custom(p, p.name), { ...o, body: p.body, contentType: MERGE_PATCH }),
    patchNamespacedCustomObjectStatus: (p, o) =>
      client.request("PATCH", custom(p, p.name, "status"), { ...o, body: p.body, contentType: MERGE_PATCH }),
    deleteNamespacedCustomObject: (p, o) => client.request("DELETE", custom(p, p.name), { ...o, body: p.body }),
    listNamespacedCustomObject: ({ group, version, plural, namespace, ...q }, o) =>
      client.request("GET", custom({ group, version, plural, namespace }), { ...o, query: listQuery(q) }),
  };
}

/** events.k8s.io/v1 Events; their times are MicroTime strings (kube-types' microTime). */
export interface EventsApi {
  createNamespacedEvent(p: { namespace: string; body: object }, o?: CallOptions): Promise<KubernetesObject>;
  /** A JSON merge patch. */
  patchNamespacedEvent(p: Named & { body: object }, o?: CallOptions): Promise<KubernetesObject>;
}

const events = (namespace: string, name?: string): string =>
  path({ group: "events.k8s.io", version: "v1", plural: "events", namespace }, name);

export function eventsApi(client: KubeClient): EventsApi {
  return {
    createNamespacedEvent: (p, o) => client.request("POST", events(p.namespace), { ...o, body: p.body }),
    patchNamespacedEvent: (p, o) =>
      client.request("PATCH", events(p.namespace, p.name), { ...o, body: p.body, contentType: MERGE_PATCH }),
  };
}

export interface LeasesApi {
  readNamespacedLease(p: Named, o?: CallOptions): Promise<Lease>;
  createNamespacedLease(p: { namespace: string; body: Lease }, o?: CallOptions): Promise<Lease>;
  replaceNamespacedLease(p: Named & { body: Lease }, o?: CallOptions): Promise<Lease>;
}

const leases = (namespace: string, name?: string): string =>
  path({ group: "coordination.k8s.io", version: "v1", plural: "leases", namespace }, name);

export function leasesApi(client: KubeClient): LeasesApi {
  return {
    readNamespacedLease: (p, o) => client.request("GET", leases(p.namespace, p.name), o),
    createNamespacedLease: (p, o) => client.request("POST", leases(p.namespace), { ...o, body: p.body }),
    replaceNamespacedLease: (p, o) => client.request("PUT", leases(p.namespace, p.name), { ...o, body: p.body }),
  };
}

/** TokenReview and SubjectAccessReview: cluster-scoped creates whose answer is in status. */
export interface ReviewsApi {
  createTokenReview(p: { body: object }, o?: CallOptions): Promise<{ status?: TokenReviewStatus }>;
  createSubjectAccessReview(p: { body: object }, o?: CallOptions): Promise<{ status?: SubjectAccessReviewStatus }>;
}

export function reviewsApi(client: KubeClient): ReviewsApi {
  return {
    createTokenReview: (p, o) =>
      client.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", { ...o, body: p.body }),
    createSubjectAccessReview: (p, o) =>
      client.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", { ...o, body: p.body }),
  };
}
