// Checking a submitted code (docs/design/2026-12-01-reserve-then-act.md). Nothing about a code
// is disclosed before what it costs has been paid with a guarded write:
// 1. a wrong-code slot of the user's 24 h budget is reserved (on any replica, at most
//    failuresPerDay are ever granted), for every code, right or wrong, so a burst of guesses
//    cannot learn more than the budget allows;
// 2. the comparison's result is acted on only through a write of the execution record guarded
//    by the resourceVersion it was read at: a wrong code counts an attempt on its challenge, a
//    right one consumes the challenge (single use: of any number of right codes one write wins);
// 3. a right code gives its slot back, while its consuming write is under way (the comparison
//    is done, and the slot never pays for a right code): one round trip instead of two. A lost
//    write re-reads and re-checks (expiry, attempts, and whether the code is still the pending
//    one), paying again with a fresh slot if the first was already given back.
import type { Clock } from "@emailauth/operator-runtime";
import { addressKey } from "../email/address.ts";
import { both } from "./both.ts";
import { type CodeKeyring, codeMatches } from "./codes.ts";
import { ConflictError, type ExecutionRecords } from "./execution-records.ts";
import { ContendedError, type Slot, type Throttles } from "./throttle.ts";
import type { ExecutionData, Stored } from "./types.ts";

export type VerifyRefusal =
  | { kind: "no_code_pending" }
  | { kind: "invalid_code"; attemptsLeft: number }
  | { kind: "code_expired" }
  | { kind: "code_spent" }
  | { kind: "failure_limit"; retryAt: Date }
  /** The right code, but another request used it first. */
  | { kind: "code_used" }
  /** A code that was pending when this request read it, replaced by a newer one since. */
  | { kind: "code_replaced" };

export type VerifyResult = { ok: true; stored: Stored<ExecutionData> } | { ok: false; refusal: VerifyRefusal };

export interface VerifyLimits {
  /** Wrong tries one code survives. */
  attemptsPerCode: number;
  /** Wrong codes of one user on one stage in 24 h, across resends and executions. */
  failuresPerDay: number;
}

export interface VerifyInput {
  records: Pick<ExecutionRecords, "getExecution" | "updateExecution">;
  throttles: Pick<Throttles, "reserveFailure" | "release">;
  key: Buffer | CodeKeyring;
  clock: Clock;
  limits: VerifyLimits;
  /** The execution as just read, in state code_sent. */
  stored: Stored<ExecutionData>;
  /** As submitted; malformed input simply does not match (and costs an attempt). */
  code: string;
  /** Waits between re-reads while the budget is held by checks of the same code. */
  pause?: (ms: number) => Promise<void>;
  /**
   * Writes what follows a right code: `consumed` is the record without its challenge (and with
   * `usedSeq`), to be written (plus whatever the next step needs) guarded by `current`'s
   * resourceVersion. A ConflictError from it means someone acted first: verify re-reads.
   */
  complete: (current: Stored<ExecutionData>, consumed: ExecutionData) => Promise<Stored<ExecutionData>>;
}

/**
 * Rounds of "write, lose, re-read". Every lost round means another request committed a write on
 * this challenge (an attempt, its use, or a resend, which the cooldown spaces out), so a few
 * more than attemptsPerCode always settle; past them the caller answers "busy, retry".
 */
export const conflictRounds = (attemptsPerCode: number): number => attemptsPerCode + 5;

/**
 * When the budget is full of slots that checks of this same code hold (a burst of requests with
 * one code), those checks settle within moments: the right one consumes the code and gives its
 * slot back. Waiting a little lets the others learn the truth (the code was used) instead of
 * "too many wrong codes".
 */
const IN_FLIGHT_WAITS = 20;
const IN_FLIGHT_PAUSE_MS = 25;

export async function verifyCode(input: VerifyInput): Promise<VerifyResult> {
  const { records, throttles, key, clock, limits, code } = input;
  const { attemptsPerCode, failuresPerDay } = limits;
  if (!(
    Number.isInteger(attemptsPerCode) &&
    attemptsPerCode >= 1 &&
    Number.isInteger(failuresPerDay) &&
    failuresPerDay >= 1
  )) {
    throw new RangeError("attemptsPerCode and failuresPerDay must be whole numbers of at least 1");
  }
  let current = input.stored;
  const first = current.data;
  const who = { namespace: first.namespace, stage: first.stage, userId: first.user.id };
  let slot: Slot | undefined;
  let failures = 0;
  let seq: number | undefined;
  let matched = false;
  const giveBack = async () => {
    const held = slot;
    slot = undefined;
    if (held) await throttles.release(held);
  };
  const refused = async (refusal: VerifyRefusal): Promise<VerifyResult> => {
    await giveBack();
    return { ok: false, refusal };
  };

  const pause = input.pause ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let waits = 0;
  try {
    for (let round = 1; round <= conflictRounds(attemptsPerCode); round++) {
      const e = current.data;
      const ch = e.challenge;
      if (seq !== undefined && ch?.seq !== seq)
        return refused({ kind: e.usedSeq === seq ? "code_used" : "code_replaced" });
      if (e.state !== "code_sent" || !ch || !e.address) return refused({ kind: "no_code_pending" });
      // An expiry that cannot be read must not mean "never".
      if (!(clock.now().getTime() < Date.parse(ch.expiresAt))) return refused({ kind: "code_expired" });
      if (ch.attempts >= attemptsPerCode) return refused({ kind: "code_spent" });

      if (!slot) {
        const reservation = await throttles.reserveFailure(who, failuresPerDay, `${e.id}:${ch.seq}`);
        if (!reservation.ok) {
          if (reservation.own > 0 && waits++ < IN_FLIGHT_WAITS) {
            await pause(IN_FLIGHT_PAUSE_MS + Math.floor(Math.random() * IN_FLIGHT_PAUSE_MS));
            const fresh = await records.getExecution(e.namespace, e.id);
            if (!fresh) return refused({ kind: "code_expired" });
            current = fresh;
            seq = ch.seq;
            round--; // waiting is not a lost write
            continue;
          }
          return { ok: false, refusal: { kind: "failure_limit", retryAt: reservation.retryAt } };
        }
        slot = reservation.slot;
        failures = reservation.count;
        seq = ch.seq;
        // A decoy step has no code that could match.
        matched =
          !e.decoy &&
          codeMatches(key, { executionId: e.id, stage: e.stage, addressKey: addressKey(e.address), code }, ch.mac);
      }

      try {
        if (!matched) {
          await records.updateExecution(current, { ...e, challenge: { ...ch, attempts: ch.attempts + 1 } });
          slot = undefined; // the wrong code keeps its slot: it is one of the day's failures
          const attemptsLeft = Math.min(attemptsPerCode - ch.attempts - 1, failuresPerDay - failures);
          return { ok: false, refusal: { kind: "invalid_code", attemptsLeft: Math.max(0, attemptsLeft) } };
        }
        const [completed] = await both(
          input.complete(current, { ...e, challenge: undefined, usedSeq: ch.seq }),
          giveBack(),
        );
        return { ok: true, stored: completed };
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        const fresh = await records.getExecution(e.namespace, e.id);
        if (!fresh) return refused({ kind: "code_expired" });
        current = fresh;
      }
    }
    throw new ContendedError("the execution changed on every try");
  } catch (err) {
    await giveBack().catch(() => undefined);
    throw err;
  }
}
