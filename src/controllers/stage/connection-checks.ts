// Remembers the last connection check per stage and settings, so a check runs when the
// settings change or the interval has passed, not on every reconcile. In memory on purpose:
// a new leader simply checks again.
import { createHash } from "node:crypto";
import type { CheckResult } from "../../email/transport.ts";
import type { SmtpSettings } from "../../email/settings.ts";
import type { Clock } from "@emailauth/operator-runtime";

interface Entry {
  fingerprint: string;
  at: number;
  result: CheckResult;
}

export class ConnectionChecks {
  readonly #check: (s: SmtpSettings) => Promise<CheckResult>;
  readonly #clock: Clock;
  readonly #last = new Map<string, Entry>();

  constructor(check: (s: SmtpSettings) => Promise<CheckResult>, clock: Clock) {
    this.#check = check;
    this.#clock = clock;
  }

  async resultFor(
    key: string,
    settings: SmtpSettings,
    intervalMs: number,
  ): Promise<{ result: CheckResult; nextInMs: number }> {
    // Hashed so the credentials inside the settings are not kept around in clear.
    const fingerprint = createHash("sha256").update(JSON.stringify(settings)).digest("hex");
    const now = this.#clock.now().getTime();
    let entry = this.#last.get(key);
    if (!entry || entry.fingerprint !== fingerprint || now - entry.at >= intervalMs) {
      entry = { fingerprint, at: now, result: await this.#check(settings) };
      this.#last.set(key, entry);
    }
    return { result: entry.result, nextInMs: Math.max(1000, entry.at + intervalMs - now) };
  }

  forget(key: string): void {
    this.#last.delete(key);
  }
}
