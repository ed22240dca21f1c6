// How an execution record (with its pending code) sits in a Secret in the operator's namespace: JSON
// under data.record, labels that say what, which stage (namespace, name and uid) and never who or
// which address, and an expiry annotation for the sweeper. No owner reference: the stage lives in
// another namespace, so the record carries the stage's uid instead and expires on its own.
// Reading back validates everything, so a hand-edited, truncated or foreign Secret is a clear
// error instead of a half-understood record.
import type { Secret } from "@emailauth/operator-runtime";
import type { z } from "zod";
import {
  COMPONENT_LABEL,
  EXECUTION_COMPONENT,
  EXECUTION_SECRET_TYPE,
  EXPIRES_AT_ANNOTATION,
  EXPIRES_BUCKET_LABEL,
  expiryBucket,
  MANAGED_BY,
  STAGE_LABEL,
  STAGE_NAMESPACE_LABEL,
  STAGE_UID_LABEL,
} from "../kinds/labels.ts";
import { executionData, type ExecutionData, type Stored } from "./types.ts";

export const RECORD_KEY = "record";

export interface RecordKind<T> {
  readonly what: string;
  readonly component: string;
  readonly type: string;
  readonly prefix: string;
  readonly schema: z.ZodType<T>;
  /** The execution id a record belongs to (it names the Secret). */
  readonly idOf: (record: T) => string;
}

export const EXECUTION_RECORD: RecordKind<ExecutionData> = {
  what: "execution",
  component: EXECUTION_COMPONENT,
  type: EXECUTION_SECRET_TYPE,
  prefix: "eao-x-",
  schema: executionData,
  idOf: (r) => r.id,
};

/** Unreadable record Secret. The message names the Secret and the failing fields, never values. */
export class MalformedRecordError extends Error {
  override name = "MalformedRecordError";
}

export interface StageRecord {
  /** The stage's namespace (the execution's); the Secret itself is in the operator's. */
  namespace: string;
  stage: string;
  expiresAt: string;
}

export function recordName<T>(kind: RecordKind<T>, executionId: string): string {
  return `${kind.prefix}${executionId}`;
}

/**
 * The whole Secret (a replace sends everything), in `secretNamespace` (the operator's);
 * `resourceVersion` makes the write conditional.
 */
export function encodeRecord<T extends StageRecord>(
  kind: RecordKind<T>,
  secretNamespace: string,
  record: T,
  stageUid: string,
  resourceVersion?: string,
): Secret {
  const parsed = kind.schema.parse(record);
  const expires = Date.parse(parsed.expiresAt);
  if (Number.isNaN(expires)) throw new RangeError(`${kind.what} expiresAt is not a timestamp`);
  if (!stageUid) throw new RangeError(`${kind.what} needs its stage's uid`);
  return {
    metadata: {
      name: recordName(kind, kind.idOf(parsed)),
      namespace: secretNamespace,
      // Label values: namespace and stage names are at most 63 characters (the stage's CRD says so).
      labels: {
        ...MANAGED_BY,
        [COMPONENT_LABEL]: kind.component,
        [STAGE_NAMESPACE_LABEL]: parsed.namespace,
        [STAGE_LABEL]: parsed.stage,
        [STAGE_UID_LABEL]: stageUid,
        [EXPIRES_BUCKET_LABEL]: expiryBucket(expires),
      },
      annotations: { [EXPIRES_AT_ANNOTATION]: new Date(expires).toISOString() },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    type: kind.type,
    data: { [RECORD_KEY]: Buffer.from(JSON.stringify(parsed), "utf8").toString("base64") },
  };
}

/**
 * Validates a Secret read back from the API server and returns the record with its identity;
 * `namespace` is the execution's (the stage's), which the record must name.
 */
export function decodeRecord<T extends StageRecord>(
  kind: RecordKind<T>,
  secret: Secret,
  namespace: string,
  executionId: string,
): Stored<T> {
  const name = recordName(kind, executionId);
  const bad = (why: string) =>
    new MalformedRecordError(`${kind.what} Secret ${secret.metadata?.namespace ?? ""}/${name} is malformed: ${why}`);
  const { uid, resourceVersion } = secret.metadata ?? {};
  if (!uid || !resourceVersion) throw bad("no uid or resourceVersion");
  if (secret.type !== kind.type) throw bad(`type is ${JSON.stringify(secret.type ?? "")}, not ${kind.type}`);
  const raw = secret.data?.[RECORD_KEY];
  if (!raw) throw bad(`no data.${RECORD_KEY}`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(raw, "base64").toString("utf8"));
  } catch {
    throw bad(`data.${RECORD_KEY} is not JSON`);
  }
  const result = kind.schema.safeParse(json);
  if (!result.success) {
    // Paths and zod's messages only: the values may be addresses or hashes.
    const fields = result.error.issues.map((i) => `${i.path.join(".") || "(record)"}: ${i.message}`).join("; ");
    throw bad(fields);
  }
  const data = result.data;
  if (kind.idOf(data) !== executionId) throw bad("its record belongs to another execution");
  if (data.namespace !== namespace) throw bad("its record belongs to another namespace");
  const labels = secret.metadata?.labels ?? {};
  if (labels[STAGE_NAMESPACE_LABEL] !== data.namespace || labels[STAGE_LABEL] !== data.stage)
    throw bad("its stage labels do not match its record");
  const stageUid = labels[STAGE_UID_LABEL];
  if (!stageUid) throw bad(`no ${STAGE_UID_LABEL} label`);
  return { data, namespace, name, uid, resourceVersion, stageUid };
}
