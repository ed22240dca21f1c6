// Labels, annotations and types the operator puts on what it creates. Values never carry PII:
// execution Secrets are found by stage and purpose, not by user or address.
import { GROUP } from "./v1alpha1/common.ts";

export const MANAGED_BY = { "app.kubernetes.io/managed-by": "email-authenticator-operator" } as const;

export const COMPONENT_LABEL = `${GROUP}/component`;
export const STAGE_LABEL = `${GROUP}/stage`;
/**
 * Records and counters live in the operator's namespace, so they name their stage's namespace
 * (and records the stage's uid, as an owner reference cannot cross namespaces).
 */
export const STAGE_NAMESPACE_LABEL = `${GROUP}/stage-namespace`;
export const STAGE_UID_LABEL = `${GROUP}/stage-uid`;
export const EXECUTION_COMPONENT = "execution";
export const EXECUTION_SECRET_TYPE = `${GROUP}/execution`;
export const EXPIRES_AT_ANNOTATION = `${GROUP}/expires-at`;

export const CHALLENGE_COMPONENT = "challenge";
export const CHALLENGE_SECRET_TYPE = `${GROUP}/challenge`;
export const THROTTLE_COMPONENT = "throttle";
export const THROTTLE_SECRET_TYPE = `${GROUP}/throttle`;
/** Which counter a throttle Secret holds ("failures" or "sends"); never whose. */
export const THROTTLE_KIND_LABEL = `${GROUP}/throttle`;
export const CODE_KEY_SECRET_TYPE = `${GROUP}/code-key`;

/**
 * On a stage with deviceDeletionPolicy Delete only: removed once its EmailDevices are deleted.
 * Nothing else needs the operator at deletion (executions expire, and the sweeper deletes them).
 */
export const DEVICES_FINALIZER = `${GROUP}/devices`;

/** Put on every stage by earlier versions; removed on sight, nothing waits for it any more. */
export const LEGACY_EXECUTIONS_FINALIZER = `${GROUP}/executions`;

/** Every short-lived Secret that carries an expires-at annotation, for the sweeper. */
export const expiringSelector = (): string =>
  `${COMPONENT_LABEL} in (${EXECUTION_COMPONENT},${CHALLENGE_COMPONENT},${THROTTLE_COMPONENT})`;

/**
 * The 10 minutes in which a short-lived Secret falls due, beside its exact expires-at: a label
 * selector can pick buckets, not times, and the sweeper lists only the buckets that have ended
 * instead of every live record and counter (so a Secret goes up to 10 minutes after it expired).
 */
export const EXPIRES_BUCKET_LABEL = `${GROUP}/expires-bucket`;
const BUCKET_MS = 10 * 60_000;

/** The bucket of an expiry: the start of its 10 minutes, "YYYYMMDDhhmm" in UTC. */
export function expiryBucket(expiresAtMs: number): string {
  return new Date(Math.floor(expiresAtMs / BUCKET_MS) * BUCKET_MS).toISOString().replace(/[-T:]/g, "").slice(0, 12);
}

/** The short-lived Secrets whose bucket ended by `now` and began within `lookbackMs` before it. */
export function dueSelector(now: Date, lookbackMs: number): string {
  const newest = Math.floor(now.getTime() / BUCKET_MS) * BUCKET_MS - BUCKET_MS;
  const buckets: string[] = [];
  for (let at = newest; at > newest - lookbackMs; at -= BUCKET_MS) buckets.push(expiryBucket(at));
  return `${expiringSelector()},${EXPIRES_BUCKET_LABEL} in (${buckets.join(",")})`;
}
