// The reconciler of a kind whose whole job is its status (FlowBinding, EmailDevice): gather from
// the caches, plan (pure, with the clock's time), write once and only on change, or not yet
// when the plan says the object's creator writes its first status. The caches
// hold decoded objects; one whose spec the schema refuses is kept apart by the informer and
// becomes Stalled here with the schema's message, instead of an error retried forever.
import {
  type Clock,
  type Condition,
  type CustomObject,
  type CustomResource,
  type ObjectCache,
  type Reconciler,
  type Request,
  type Result,
  statusEqual,
} from "@emailauth/operator-runtime";
import type { Typed } from "../kinds/v1alpha1/objects.ts";
import type { ObjectWrites } from "./object-writes.ts";
import { composeStatus, type StatusDecision } from "./status.ts";

export interface BaseStatus {
  observedGeneration?: number;
  conditions?: Condition[];
}

export interface StatusKind<Spec, Status extends BaseStatus, Input> {
  resource: CustomResource;
  objects: ObjectCache<Typed<Spec, Status>>;
  /** Reads what the plan needs from the caches; no writes, no clock. */
  gather(object: Typed<Spec, Status>, req: Request): Input;
  /** Pure. */
  plan(input: Input, now: Date): StatusDecision<Partial<Status>>;
}

export interface StatusReconcilerDeps {
  writes: ObjectWrites;
  clock: Clock;
}

export class StatusReconciler<Spec, Status extends BaseStatus, Input> implements Reconciler {
  readonly #kind: StatusKind<Spec, Status, Input>;
  readonly #d: StatusReconcilerDeps;

  constructor(kind: StatusKind<Spec, Status, Input>, deps: StatusReconcilerDeps) {
    this.#kind = kind;
    this.#d = deps;
  }

  async reconcile(req: Request): Promise<Result> {
    const kind = this.#kind;
    const object = kind.objects.get(req.namespace, req.name);
    const invalid = object ? undefined : kind.objects.invalid?.(req.namespace, req.name);
    const target: CustomObject<unknown, BaseStatus> | undefined = object ?? invalid?.object;
    if (!target || target.metadata?.deletionTimestamp) return {};
    const now = this.#d.clock.now();
    const decision = object
      ? kind.plan(kind.gather(object, req), now)
      : invalidSpec(target, invalid?.error.message ?? "unreadable");
    if (decision.waitMs !== undefined) return { requeueAfterMs: decision.waitMs };
    const previous = target.status;
    const status = composeStatus(target.metadata?.generation ?? 0, previous?.conditions, decision, now);
    if (!statusEqual(status, previous ?? {})) await this.#d.writes.status(kind.resource, target, status);
    return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
  }
}

/**
 * Stalled on an object the schema refuses, keeping its other status fields. Only objects stored
 * before a schema change can get here; the API server checks the rest.
 */
export function invalidSpec(object: CustomObject<unknown, BaseStatus>, problems: string): StatusDecision<object> {
  const fields: Record<string, unknown> = { ...object.status };
  delete fields.observedGeneration;
  delete fields.conditions;
  return {
    readiness: {
      stalled: {
        reason: "InvalidSpec",
        message: `the stored object does not match this operator's schema: ${problems}`,
      },
    },
    fields,
  };
}
