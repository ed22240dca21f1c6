// Execution records: executions and their single challenge as Secrets beside the stage
// (docs/design/executions.md).
// Every read is a fresh GET (no cache: a replica must see what another just wrote); every write
// after the first carries the resourceVersion it read, so concurrent requests cannot both win.
// Nothing here logs; records hold a code's MAC and a token's hash, never the code or token.
import type { CoreV1Api, V1Secret } from "@kubernetes/client-node";
import {
  isAlreadyExists,
  isConflict,
  isNotFound,
  normalizeError,
  type KubeError,
  isForbidden,
} from "@emailauth/operator-runtime";
import type { Clock } from "@emailauth/operator-runtime";
import {
  CHALLENGE_RECORD,
  decodeRecord,
  encodeRecord,
  EXECUTION_RECORD,
  recordName,
  type RecordKind,
  type StageRecord,
} from "./record-secret.ts";
import type { ExecutionId } from "./ids.ts";
import type { ChallengeData, ExecutionData, Stored } from "./types.ts";

/** Replace-or-create races (a resend against a resend) settle within a few rounds. */
const PUT_ROUNDS = 5;

/**
 * A preconditioned write lost: the record changed since it was read. `isConflict` holds for it
 * (the API error is its cause) and `conflict` is that error normalised.
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
    this.#assertLive(EXECUTION_RECORD, data);
    const body = encodeRecord(EXECUTION_RECORD, data.namespace, data, stageUid);
    const created = await this.#core.createNamespacedSecret({ namespace: data.namespace, body });
    return decodeRecord(EXECUTION_RECORD, created, data.namespace, data.id);
  }

  /** undefined when there is no such execution; throws on a malformed one. */
  getExecution(namespace: string, id: ExecutionId): Promise<Stored<ExecutionData> | undefined> {
    return this.#get(EXECUTION_RECORD, namespace, id);
  }

  /**
   * Replaces the record if nobody changed it since `stored` was read; else a ConflictError, or
   * the API server's NotFound if it was deleted meanwhile.
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
    return this.#replace(EXECUTION_RECORD, { ...stored, stageUid }, next);
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

  /**
   * Makes `challenge` the execution's only challenge: a resend replaces the previous one (and
   * its MAC, expiry and attempts), so only the newest code can verify.
   */
  async putChallenge(namespace: string, challenge: ChallengeData, stageUid: string): Promise<Stored<ChallengeData>> {
    this.#assertLive(CHALLENGE_RECORD, challenge);
    const body = encodeRecord(CHALLENGE_RECORD, namespace, challenge, stageUid);
    const name = recordName(CHALLENGE_RECORD, challenge.executionId);
    for (let round = 1; ; round++) {
      try {
        // No resourceVersion: an unconditional replace, whatever the previous challenge was.
        const replaced = await this.#core.replaceNamespacedSecret({ namespace, name, body });
        return decodeRecord(CHALLENGE_RECORD, replaced, namespace, challenge.executionId);
      } catch (e) {
        if (!isNotFound(e) || round >= PUT_ROUNDS) throw e;
      }
      try {
        const created = await this.#core.createNamespacedSecret({ namespace, body });
        return decodeRecord(CHALLENGE_RECORD, created, namespace, challenge.executionId);
      } catch (e) {
        // A concurrent resend created it first: replace theirs on the next round.
        if (!isAlreadyExists(e)) throw e;
      }
    }
  }

  getChallenge(namespace: string, executionId: ExecutionId): Promise<Stored<ChallengeData> | undefined> {
    return this.#get(CHALLENGE_RECORD, namespace, executionId);
  }

  /**
   * Counts an attempt before the code is compared: a ConflictError means someone else counted
   * (or a resend replaced the challenge) first, a NotFound error that it was consumed meanwhile.
   */
  incrementAttempts(stored: Stored<ChallengeData>): Promise<Stored<ChallengeData>> {
    return this.#replace(CHALLENGE_RECORD, stored, { ...stored.data, attempts: stored.data.attempts + 1 });
  }

  /**
   * Uses the code up: true only if this call deleted exactly the challenge `stored` describes.
   * false if it is gone (another request consumed it) or changed (another attempt or a resend).
   */
  async consumeChallenge(stored: Stored<ChallengeData>): Promise<boolean> {
    try {
      await this.#core.deleteNamespacedSecret({
        namespace: stored.namespace,
        name: stored.name,
        body: { preconditions: { uid: stored.uid, resourceVersion: stored.resourceVersion } },
      });
      return true;
    } catch (e) {
      if (isNotFound(e) || isConflict(e)) return false;
      throw e;
    }
  }

  /** Removes the challenge whatever its state (flow finished or abandoned); absent is fine. */
  async deleteChallenge(namespace: string, executionId: ExecutionId): Promise<void> {
    try {
      await this.#core.deleteNamespacedSecret({ namespace, name: recordName(CHALLENGE_RECORD, executionId) });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async #get<T extends StageRecord>(
    kind: RecordKind<T>,
    namespace: string,
    id: ExecutionId,
  ): Promise<Stored<T> | undefined> {
    let secret: V1Secret;
    try {
      secret = await this.#core.readNamespacedSecret({ namespace, name: recordName(kind, id) });
    } catch (e) {
      // Forbidden: a namespace the operator does not serve, so nothing of ours can be there.
      if (isNotFound(e) || isForbidden(e)) return undefined;
      throw e;
    }
    return decodeRecord(kind, secret, namespace, id);
  }

  async #replace<T extends StageRecord>(kind: RecordKind<T>, stored: Stored<T>, next: T): Promise<Stored<T>> {
    const body = encodeRecord(kind, stored.namespace, next, stored.stageUid, stored.resourceVersion);
    try {
      const replaced = await this.#core.replaceNamespacedSecret({
        namespace: stored.namespace,
        name: stored.name,
        body,
      });
      return decodeRecord(kind, replaced, stored.namespace, kind.idOf(next));
    } catch (e) {
      if (isConflict(e)) throw new ConflictError(`${kind.what} ${stored.namespace}/${stored.name}`, e);
      throw e;
    }
  }

  /** A record that is born expired is a caller's bug, and would be swept at once. */
  #assertLive<T extends StageRecord>(kind: RecordKind<T>, record: T): void {
    if (!(Date.parse(record.expiresAt) > this.#clock.now().getTime())) {
      throw new RangeError(`a new ${kind.what} must expire in the future`);
    }
  }
}
