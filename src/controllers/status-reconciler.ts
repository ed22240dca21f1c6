// The reconciler of a kind whose whole job is its status (FlowBinding, EmailDevice): gather from
// the caches, plan (pure, with the clock's time), write once and only on change. A spec this
// operator cannot read becomes Stalled with the schema's message instead of an error retried
// forever.
import type { z } from "zod";
import {
  type Clock,
  type CustomObject,
  type CustomResource,
  type ObjectCache,
  type Reconciler,
  type Request,
  type Result,
  statusEqual,
} from "@emailauth/operator-runtime";
import type { Condition } from "@emailauth/operator-runtime";
import type { ObjectWrites } from "./object-writes.ts";
import { composeStatus, describeIssues, type StatusDecision } from "./status.ts";

export interface BaseStatus {
  observedGeneration?: number;
  conditions?: Condition[];
}

/** An object whose spec has been read with the kind's schema. */
export type Decoded<Spec, Status> = CustomObject<Spec, Status> & { spec: Spec };

export interface StatusKind<Spec, Status extends BaseStatus, Input> {
  resource: CustomResource;
  objects: ObjectCache<CustomObject<unknown, Status>>;
  /** The spec as this operator reads it (defaults applied). */
  spec: z.ZodType<Spec>;
  /** Reads what the plan needs from the caches; no writes, no clock. */
  gather(object: Decoded<Spec, Status>, req: Request): Input;
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
    if (!object || object.metadata?.deletionTimestamp) return {};
    const now = this.#d.clock.now();
    const decision = this.decide(object, req, now);
    const status = composeStatus(object.metadata?.generation ?? 0, object.status?.conditions, decision, now);
    if (!statusEqual(status, object.status ?? {})) await this.#d.writes.status(kind.resource, object, status);
    return decision.requeueAfterMs === undefined ? {} : { requeueAfterMs: decision.requeueAfterMs };
  }

  /** The plan for one object, or Stalled on a spec that does not match the schema. */
  decide(object: CustomObject<unknown, Status>, req: Request, now: Date): StatusDecision<object> {
    const parsed = this.#kind.spec.safeParse(object.spec);
    if (parsed.success) return this.#kind.plan(this.#kind.gather({ ...object, spec: parsed.data }, req), now);
    // Only objects stored before a schema change can get here; the API server checks the rest.
    const fields: Record<string, unknown> = { ...object.status };
    delete fields.observedGeneration;
    delete fields.conditions;
    return {
      readiness: {
        stalled: {
          reason: "InvalidSpec",
          message: `the stored spec does not match this operator's schema: ${describeIssues(parsed.error.issues)}`,
        },
      },
      fields,
    };
  }
}
