// Labels, annotations and types the operator puts on what it creates. Values never carry PII:
// execution Secrets are found by stage and purpose, not by user or address.
import { GROUP } from "./v1alpha1/common.ts";

export const MANAGED_BY = { "app.kubernetes.io/managed-by": "email-authenticator-operator" } as const;

export const COMPONENT_LABEL = `${GROUP}/component`;
export const STAGE_LABEL = `${GROUP}/stage`;
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

/** Removed only after the stage's pending executions are gone. */
export const STAGE_FINALIZER = `${GROUP}/executions`;

/** A stage's pending executions and their challenges: what its finalizer removes. */
export const stageExecutionsSelector = (stage: string): string =>
  `${COMPONENT_LABEL} in (${EXECUTION_COMPONENT},${CHALLENGE_COMPONENT}),${STAGE_LABEL}=${stage}`;

/** Every short-lived Secret that carries an expires-at annotation, for the sweeper. */
export const expiringSelector = (): string =>
  `${COMPONENT_LABEL} in (${EXECUTION_COMPONENT},${CHALLENGE_COMPONENT},${THROTTLE_COMPONENT})`;
