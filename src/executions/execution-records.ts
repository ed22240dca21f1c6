// Execution records as Secrets beside the stage (docs/design/2026-11-27-flow-executions.md). Every read is a
// fresh GET (no cache: a replica must see what another just wrote); every write after the first
// carries the resourceVersion it read, so of two requests acting on the same state one wins and
// the other gets a ConflictError and starts again from a fresh read. The pending code lives in
// the record, so replacing, counting and consuming it are such guarded writes too.
// Nothing here logs; records hold a code's MAC and a token's hash, never the code or token.
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node";
import { isConflict, isForbidden, isNotFound, normalizeError, type KubeError } from "@emailauth/operator-runtime";
import type { Clock } from "@emailauth/operator-runtime";
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
  readonly #core: CoreV1Api;
  readonly #clock: Clock;

  constructor(core: CoreV1Api, clock: Clock) {
    this.#core = core;
    this.#clock = clock;
  }

  async createExecution(data: ExecutionData, stageUid: string): Promise<Stored<ExecutionData>> {
    if (!(Date.parse(data.expiresAt) > this.#clock.now().getTime()))
      throw new RangeError("a new execution must expire in the future");
    const body = encodeRecord(EXECUTION_RECORD, data.namespace, data, stageUid);
    const created = await this.#core.createNamespacedSecret({ namespace: data.namespace, body });
    return decodeRecord(EXECUTION_RECORD, created, data.namespace, data.id);
  }

  /** undefined when there is no such execution; throws on a malformed one. */
  async getExecution(namespace: string, id: ExecutionId): Promise<Stored<ExecutionData> | undefined> {
    let secret: V1Secret;
    try {
      secret = await this.#core.readNamespacedSecret({ namespace, name: recordName(EXECUTION_RECORD, id) });
    } catch (e) {
      // Forbidden: a namespace the operator does not serve, so nothing of ours can be there.
      if (isNotFound(e) || isForbidden(e)) return undefined;
      throw e;
    }
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
    // The stage label and owner reference follow the stage, so moving on needs the next stage's uid.
    if (next.stage !== stored.data.stage && stageUid === stored.stageUid)
      throw new RangeError("moving an execution to another stage needs that stage's uid");
    const body = encodeRecord(EXECUTION_RECORD, stored.namespace, next, stageUid, stored.resourceVersion);
    try {
      const replaced = await this.#core.replaceNamespacedSecret({
        namespace: stored.namespace,
        name: stored.name,
        body,
      });
      return decodeRecord(EXECUTION_RECORD, replaced, stored.namespace, next.id);
    } catch (e) {
      if (isConflict(e) || isNotFound(e)) throw new ConflictError(`execution ${stored.namespace}/${stored.name}`, e);
      throw e;
    }
  }

  /** Removes an execution that never became usable (its start failed); absent is fine. */
  async deleteExecution(stored: Stored<ExecutionData>): Promise<void> {
    try {
      await this.#core.deleteNamespacedSecret({
        namespace: stored.namespace,
        name: stored.name,
        body: { preconditions: { uid: stored.uid } },
      });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}
