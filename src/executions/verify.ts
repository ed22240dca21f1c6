// Checking a submitted code, single use under concurrency (docs/design/executions.md, steps 1–7).
// The attempt is counted with a resourceVersion-guarded write BEFORE the comparison, so parallel
// guesses cannot share one attempt; success is a DELETE preconditioned on the uid and
// resourceVersion of that write, so of any number of requests with the right code one wins.
import { isConflict, isNotFound } from "@emailauth/operator-runtime";
import type { Clock } from "@emailauth/operator-runtime";
import { codeMatches } from "./codes.ts";
import type { ExecutionRecords } from "./execution-records.ts";
import type { ExecutionId } from "./ids.ts";
import type { Throttles } from "./throttle.ts";

export type VerifyResult =
  | { ok: true }
  | { ok: false; code: "invalid_code"; attemptsLeft: number }
  | { ok: false; code: "code_expired" }
  | { ok: false; code: "too_many_attempts"; retryAt?: Date };

export interface VerifyLimits {
  /** Wrong tries one code survives. */
  attemptsPerCode: number;
  /** Failures of one user on one stage in 24 h, across resends and executions. */
  failuresPerDay: number;
}

export interface VerifyInput {
  store: Pick<ExecutionRecords, "getChallenge" | "incrementAttempts" | "consumeChallenge">;
  throttles: Pick<Throttles, "retryAt" | "recordFailure">;
  key: Buffer;
  clock: Clock;
  limits: VerifyLimits;
  namespace: string;
  executionId: ExecutionId;
  stage: string;
  userId: string;
  /** The normalised comparison key of the address the code was sent to. */
  addressKey: string;
  /** As submitted; malformed input simply does not match (and costs an attempt). */
  code: string;
}

/**
 * Rounds of "read, count the attempt, 409" before giving up. Each 409 means another request's
 * attempt was counted (or a resend replaced the challenge), and at most attemptsPerCode attempts
 * can be counted, so attemptsPerCode + 1 rounds always settle without resends; the margin
 * absorbs a few resends. Past it the conflict is thrown (the caller answers "try again").
 */
export const conflictRounds = (attemptsPerCode: number): number => attemptsPerCode + 3;

export async function verifyCode(input: VerifyInput): Promise<VerifyResult> {
  const { store, throttles, key, clock, limits, namespace, executionId, stage, userId, addressKey, code } = input;
  const { attemptsPerCode, failuresPerDay } = limits;
  if (!(
    Number.isInteger(attemptsPerCode) &&
    attemptsPerCode >= 1 &&
    Number.isInteger(failuresPerDay) &&
    failuresPerDay >= 1
  )) {
    throw new RangeError("attemptsPerCode and failuresPerDay must be whole numbers of at least 1");
  }
  const who = { namespace, stage, userId };
  const rounds = conflictRounds(attemptsPerCode);

  for (let round = 1; ; round++) {
    // 1. Fresh read: no cache may stand between two replicas.
    const read = await store.getChallenge(namespace, executionId);
    // A challenge of another stage cannot match (the stage is MACed); it is not charged either.
    if (!read || read.data.stage !== stage) return invalidCode(0);

    // 2. Expired, or an expiry that cannot be read (which must not mean "never").
    if (!(clock.now().getTime() < Date.parse(read.data.expiresAt))) return { ok: false, code: "code_expired" };

    // 3. The per-user daily cap, which no resend or new execution resets.
    const retryAt = await throttles.retryAt(who, failuresPerDay);
    if (retryAt) return { ok: false, code: "too_many_attempts", retryAt };

    // 4. This code is spent; only a resend brings a usable one.
    if (read.data.attempts >= attemptsPerCode) return { ok: false, code: "too_many_attempts" };

    // 5. Count the attempt first, conditional on what was read.
    let counted;
    try {
      counted = await store.incrementAttempts(read);
    } catch (e) {
      // 409: another attempt or a resend got there first. 404: the challenge was consumed or
      // deleted meanwhile (the API server answers a stale PUT on a deleted object with 404, not
      // 409). Either way the next read decides.
      if ((isConflict(e) || isNotFound(e)) && round < rounds) continue;
      throw e;
    }

    // 6. Mismatch: a failure for the daily cap too.
    if (!codeMatches(key, { executionId, stage, addressKey, code }, counted.data.mac)) {
      const failures = await throttles.recordFailure(who);
      return invalidCode(Math.min(attemptsPerCode - counted.data.attempts, failuresPerDay - failures));
    }

    // 7. Match: only the request whose preconditioned DELETE succeeds has used the code. A loser
    // had the right code, so it is not a failure, but the challenge is no longer its to use.
    return (await store.consumeChallenge(counted)) ? { ok: true } : invalidCode(0);
  }
}

function invalidCode(attemptsLeft: number): VerifyResult {
  return { ok: false, code: "invalid_code", attemptsLeft: Math.max(0, attemptsLeft) };
}
