// The public face of the operator runtime: a small controller runtime with its own small
// Kubernetes client, shaped after controller-runtime. Everything not exported here
// (guarded watches, the watchdog, lease records, the informer's store, the work queue behind
// each controller, path and key helpers) is internal.

// Time, waiting and retrying: the bottom layer, injected everywhere above.
export { type Cancel, type Clock, FakeClock, systemClock } from "./src/clock.ts";
export { sleep } from "./src/sleep.ts";
export { Backoff, type BackoffOptions, jittered } from "./src/backoff.ts";
export { createOnce, retryTransient, type RetryTransientOptions } from "./src/retry-transient.ts";
export {
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isNotFound,
  type KubeError,
  type KubeErrorKind,
  normalizeError,
} from "./src/errors.ts";

// The Kubernetes API: configuration, one pooled client, and the calls an operator makes.
export {
  type ClusterConfig,
  type ExecConfig,
  KubeConfig,
  KubeConfigError,
  type KubeConfigSource,
  loadInCluster,
  loadKubeConfig,
  loadKubeConfigFile,
  type UserConfig,
} from "./src/kube-config.ts";
export {
  KubeApiError,
  KubeClient,
  type KubeClientOptions,
  type Method,
  type RequestOptions,
} from "./src/kube-client.ts";
export {
  type CallOptions,
  type CoreApi,
  coreApi,
  type CustomCollection,
  type CustomObjectsApi,
  customObjectsApi,
  type EventsApi,
  eventsApi,
  type LeasesApi,
  leasesApi,
  MERGE_PATCH,
  type ReviewsApi,
  reviewsApi,
} from "./src/kube-api.ts";
export type {
  ConfigMap,
  DeleteOptions,
  KubernetesListObject,
  KubernetesObject,
  Lease,
  ObjectMetadata,
  OwnerReference,
  Secret,
  Status,
  SubjectAccessReviewStatus,
  TokenReviewStatus,
} from "./src/kube-types.ts";
export { microTime } from "./src/kube-types.ts";

// Objects and where they live.
export type { CustomObject, CustomResource, ObjectMeta } from "./src/objects.ts";
export type { ResourceRef } from "./src/resource.ts";

// Caches: list-watch, informers and their read-only views.
export {
  createListWatch,
  type ListResult,
  type ListWatch,
  type ListWatchOptions,
  type WatchEvent,
  type WatchEventType,
  type WatchRequest,
} from "./src/list-watch.ts";
export { createInformer, type CreateInformerOptions, Informer } from "./src/informer.ts";
export type { InformerMetrics, InformerOptions, RestartReason } from "./src/informer-options.ts";
export type { DecodeFunction, Decoder, Keyed, SafeParser } from "./src/decode.ts";
export type { AddHandler, DeleteHandler, InvalidHandler, ResyncHandler, UpdateHandler } from "./src/event-handlers.ts";
export { type InvalidObject, type ObjectCache, joinCaches } from "./src/object-cache.ts";
export {
  type ObjectRef,
  ReferenceTracker,
  type SingleObjectWatch,
  type WatchFactory,
} from "./src/reference-tracker.ts";

// Controllers: the loop that owns the queue and retries, and what a reconciler returns.
export { Controller, type ControllerMetrics, type ControllerOptions, type ReconcileOutcome } from "./src/controller.ts";
export {
  type ReconcileContext,
  type Reconciler,
  type Request,
  requestKey,
  type Result,
  TerminalError,
} from "./src/reconcile-result.ts";

// Status, finalizers and Events: writes that carry the resourceVersion they were computed from.
export {
  type Condition,
  type ConditionStatus,
  type ConditionUpdate,
  findCondition,
  formatTime,
  type Readiness,
  readinessConditions,
  type ReasonMessage,
  setCondition,
  statusEqual,
} from "./src/conditions.ts";
export {
  computeKStatus,
  type KStatus,
  type KStatusCondition,
  type KStatusObject,
  type KStatusResult,
} from "./src/kstatus.ts";
export { type StatusTarget, writeStatus } from "./src/status-writer.ts";
export { setFinalizer } from "./src/finalizers.ts";
export { type EventRecorder, eventRecorder, type EventTarget } from "./src/events.ts";

// The process around controllers: leader election and health endpoints.
export { type LeaderCallbacks, LeaderElector, type LeaderElectorOptions } from "./src/leader.ts";
export {
  type HealthServer,
  type HealthServerOptions,
  type ReadinessCheck,
  startHealthServer,
} from "./src/health-server.ts";
