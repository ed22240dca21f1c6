// metav1.Condition helpers, after apimachinery's meta.SetStatusCondition and cert-manager's
// condition utilities: lastTransitionTime moves only when status does, every condition carries
// observedGeneration, and status is written only when it actually changed.

export type ConditionStatus = "True" | "False" | "Unknown";

export interface Condition {
  type: string;
  status: ConditionStatus;
  observedGeneration?: number;
  /** RFC 3339, whole seconds, as metav1.Time serialises. */
  lastTransitionTime: string;
  reason: string;
  message: string;
}

export type ConditionUpdate = Omit<Condition, "lastTransitionTime">;

/** metav1.Condition's limits: the API server rejects longer messages and malformed reasons. */
export const MAX_CONDITION_MESSAGE = 32768;
const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const MAX_REASON = 1024;

export function findCondition(list: readonly Condition[] | undefined, type: string): Condition | undefined {
  return list?.find((c) => c.type === type);
}

/**
 * Returns `list` with `update` applied, leaving `list` untouched. An existing condition keeps
 * its position, and its lastTransitionTime unless the status changed; reason, message and
 * observedGeneration always take the new values. A new condition is appended.
 */
export function setCondition(list: readonly Condition[] | undefined, update: ConditionUpdate, now: Date): Condition[] {
  if (!REASON.test(update.reason) || update.reason.length > MAX_REASON) {
    // A bad reason would make every status write fail with 422; fail where the bug is instead.
    throw new TypeError(`condition reason ${JSON.stringify(update.reason)} is not a CamelCase identifier`);
  }
  const previous = findCondition(list, update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    ...(update.observedGeneration !== undefined ? { observedGeneration: update.observedGeneration } : {}),
    lastTransitionTime: previous && previous.status === update.status ? previous.lastTransitionTime : formatTime(now),
    reason: update.reason,
    message: truncateMessage(update.message),
  };
  const current = list ?? [];
  return previous ? current.map((c) => (c === previous ? next : c)) : [...current, next];
}

/**
 * Shortens a message to the API limit. The limit is applied to UTF-16 units, which never
 * exceeds the character count the API server checks, and a surrogate pair is never split.
 */
export function truncateMessage(message: string, max = MAX_CONDITION_MESSAGE): string {
  if (message.length <= max) return message;
  let end = max - 1; // room for the ellipsis
  const last = message.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${message.slice(0, end)}…`;
}

/** metav1.Time's wire format: second precision, UTC. */
export function formatTime(t: Date): string {
  return t.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Deep equality with JSON semantics, to decide whether a status write is needed: key order is
 * ignored and a property set to undefined counts as absent (neither reaches the API server);
 * array order matters.
 */
export function statusEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => statusEqual(x, b[i]));
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = definedKeys(a);
  return keys.length === definedKeys(b).length && keys.every((k) => b[k] !== undefined && statusEqual(a[k], b[k]));
}

export interface ReasonMessage {
  reason: string;
  message: string;
}

type ReadinessState = "ready" | "stalled" | "reconciling";
type Only<K extends ReadinessState> = { [P in K]: ReasonMessage } & { [P in Exclude<ReadinessState, K>]?: never };

/**
 * Exactly one of: `ready` (the spec is in effect), `stalled` (a configuration error that only
 * a change to the object or its references will fix), `reconciling` (work in progress,
 * including retrying a transient failure).
 */
export type Readiness = Only<"ready"> | Only<"stalled"> | Only<"reconciling">;

/**
 * The Ready/Reconciling/Stalled triple that kstatus (Flux) and Argo CD health checks read:
 * ready → Ready=True; stalled → Stalled=True, Ready=False; reconciling → Reconciling=True,
 * Ready=Unknown. The other two are always present as False so the reading never depends on
 * absence. Other condition types in `previous` are kept. The caller also sets
 * status.observedGeneration to the same generation: kstatus reads that top-level field.
 */
export function readinessConditions(
  input: { generation: number } & Readiness,
  now: Date,
  previous: readonly Condition[] = [],
): Condition[] {
  const [state, { reason, message }] = input.ready
    ? (["ready", input.ready] as const)
    : input.stalled
      ? (["stalled", input.stalled] as const)
      : (["reconciling", input.reconciling] as const);
  const observedGeneration = input.generation;
  const statuses: Record<string, ConditionStatus> = {
    Ready: state === "ready" ? "True" : state === "stalled" ? "False" : "Unknown",
    Reconciling: state === "reconciling" ? "True" : "False",
    Stalled: state === "stalled" ? "True" : "False",
  };
  return Object.entries(statuses).reduce<Condition[]>(
    (list, [type, status]) => {
      const active = type === "Ready" || status === "True";
      return setCondition(list, { type, status, observedGeneration, reason, message: active ? message : "" }, now);
    },
    [...previous],
  );
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}

function definedKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).filter((k) => o[k] !== undefined);
}
