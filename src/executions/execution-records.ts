// Execution records as Secrets in the operator's namespace (docs/design/2026-11-27-flow-executions.md), so
// the operator writes Secrets nowhere else; ids are random, so names do not collide across the
// stages' namespaces, and each record names its stage's namespace, name and uid. Every read is a
// fresh GET (no cache: a replica must see what another just wrote); every write after the first
// carries the resourceVersion it read, so of two requests acting on the same state one wins and
// the other gets a ConflictError and starts again from a fresh read. The pending code lives in
// the record, so replacing, counting and consuming it are such guarded writes too.
// Nothing here logs; records hold a code's MAC and a token's hash, never the code or token.
import type { CoreApi, Secret } from "@emailauth/operator-runtime";
import { isConflict, isNotFound, normalizeError, type KubeError } from "@emailauth/operator-runtime";
import type { Clock } from "@emailauth/operator-runtime";
import { STAGE_NAMESPACE_LABEL } from "../kinds/labels.ts";
import { decodeRecord, encodeRecord, EXECUTION_RECORD, recordName } from "./record-secret.ts";
import type { ExecutionId } from "./ids.ts";
import type { ExecutionData, Stored } from "./types.ts";

/**
 * A guarded write lost: the record changed (or went) since it was read. `conflict` is the API
 * error normalised; callers start again from a fresh read.
 */
export class ConflictError extends Error {
  override name = "ConflictError";
  readonly conflict: KubeError;

  constructor(what: string, cause: unknown) {
    super(`${what} changed since it was read`, { cause });
    this.conflict = normalizeError(cause);
  }
}

export class ExecutionRecords {
  readonly #core: CoreApi;
  readonly #clock: Clock;
  /** Where the records live: the operator's own namespace. */
  readonly #namespace: string;

  constructor(core: CoreApi, clock: Clock, namespace: string) {
    this.#core = core;
    this.#clock = clock;
    this.#namespace = namespace;
  }

  async createExecution(data: ExecutionData, stageUid: string): Promise<Stored<ExecutionData>> {
    if (!(Date.parse(data.expiresAt) > this.#clock.now().getTime()))
      throw new RangeError("a new execution must expire in the future");
    const body = encodeRecord(EXECUTION_RECORD, this.#namespace, data, stageUid);
    const created = await this.#core.createNamespacedSecret({ namespace: this.#namespace, body });
    return decodeRecord(EXECUTION_RECORD, created, data.namespace, data.id);
  }

  /**
   * The execution `id` of the stages' namespace `namespace`; undefined when there is none there
   * (a record of another namespace is not found under this one). Throws on a malformed one.
   */
  async getExecution(namespace: string, id: ExecutionId): Promise<Stored<ExecutionData> | undefined> {
    let secret: Secret;
    try {
      secret = await this.#core.readNamespacedSecret({
        namespace: this.#namespace,
        name: recordName(EXECUTION_RECORD, id),
      });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
    if (secret.metadata?.labels?.[STAGE_NAMESPACE_LABEL] !== namespace) return undefined;
    return decodeRecord(EXECUTION_RECORD, secret, namespace, id);
  }

  /**
   * Replaces the record if nobody changed it since `stored` was read; else a ConflictError
   * (also when it was deleted meanwhile: the API server answers such a PUT with 404).
   */
  async updateExecution(
    stored: Stored<ExecutionData>,
    next: ExecutionData,
    stageUid = stored.stageUid,
  ): Promise<Stored<ExecutionData>> {
    if (next.id !== stored.data.id || next.namespace !== stored.namespace)
      throw new RangeError("an execution keeps its id and namespace");
    // The stage labels follow the stage, so moving on needs the next stage's uid.
    if (next.stage !== stored.data.stage && stageUid === stored.stageUid)
      throw new RangeError("moving an execution to another stage needs that stage's uid");
    const body = encodeRecord(EXECUTION_RECORD, this.#namespace, next, stageUid, stored.resourceVersion);
    try {
      const replaced = await this.#core.replaceNamespacedSecret({
        namespace: this.#namespace,
        name: stored.name,
        body,
      });
      return decodeRecord(EXECUTION_RECORD, replaced, stored.namespace, next.id);
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) throw new ConflictError(`execution ${this.#namespace}/${stored.name}`, e);
      throw e;
    }
  }

  /** Removes an execution that never became usable (its start failed); absent is fine. */
  async deleteExecution(stored: Stored<ExecutionData>): Promise<void> {
    try {
      await this.#core.deleteNamespacedSecret({
        namespace: this.#namespace,
        name: stored.name,
        body: { preconditions: { uid: stored.uid } },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
