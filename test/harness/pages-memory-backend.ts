// An in-memory PageBackend for rendering the hosted pages in a real browser without an
// operator: it follows the same rules as the execution service (one-time launch tokens,
// session hashes, attempts per code, resend cooldown) on a fixed code, with a settable clock.
// The end-to-end tests use the real service; this one proves the pages and the browser harness.
import { secretHash, secretMatches } from "../../src/hand-off/launch.ts";
import type { PageBackend, PageExecution, PageInput, PageOutcome } from "../../src/pages/backend.ts";
import { DEFAULT_BRANDING, type Branding } from "../../src/pages/branding.ts";

export interface MemoryExecution {
  id: string;
  title: string;
  state: PageExecution["state"];
  address?: string;
  code: string;
  attemptsLeft: number;
  lastSentAt?: number;
  cooldownSeconds: number;
  launchHash?: string;
  sessionHash?: string;
  denial?: string;
  returnTo?: string;
  expiresAt: number;
  branding?: Branding;
}

export class MemoryPageBackend implements PageBackend {
  readonly executions = new Map<string, MemoryExecution>();
  now = Date.parse("2026-12-01T10:00:00Z");
  readonly clock = { now: () => new Date(this.now) };

  add(e: Partial<MemoryExecution> & { id: string; launchToken: string }): MemoryExecution {
    const { launchToken, ...rest } = e;
    const record: MemoryExecution = {
      title: "Email sign-in",
      state: "email_required",
      code: "123456",
      attemptsLeft: 3,
      cooldownSeconds: 30,
      expiresAt: this.now + 15 * 60_000,
      ...rest,
      launchHash: secretHash(launchToken),
    };
    this.executions.set(e.id, record);
    return record;
  }

  launch(id: string, token: string, session: string): Promise<{ ok: true; expiresAt: string } | { ok: false }> {
    const e = this.executions.get(id);
    if (!e || !secretMatches(token, e.launchHash)) return Promise.resolve({ ok: false });
    e.launchHash = undefined;
    e.sessionHash = secretHash(session);
    return Promise.resolve({ ok: true, expiresAt: new Date(e.expiresAt).toISOString() });
  }

  load(id: string, session: string): Promise<PageOutcome> {
    return Promise.resolve(this.#find(id, session) ?? { ok: true, execution: this.#view(this.executions.get(id)!) });
  }

  submit(id: string, session: string, input: PageInput): Promise<PageOutcome> {
    const problem = this.#find(id, session);
    if (problem) return Promise.resolve(problem);
    const e = this.executions.get(id)!;
    const fail = (code: string, extra: object = {}): Promise<PageOutcome> =>
      Promise.resolve({ ok: false, problem: { code, ...extra }, execution: this.#view(e) });
    if (e.state === "completed" || e.state === "denied") return fail("conflict");
    if ("email" in input) {
      if (!/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/.test(input.email)) return fail("invalid_email");
      e.address = input.email;
      return this.#send(e);
    }
    if ("resend" in input) {
      const wait = (e.lastSentAt ?? 0) + e.cooldownSeconds * 1000 - this.now;
      if (wait > 0) return fail("resend_cooldown", { retryAfter: Math.ceil(wait / 1000) });
      return this.#send(e);
    }
    if (e.state !== "code_sent") return fail("email_required");
    if (!/^[0-9]{1,16}$/.test(input.code)) return fail("invalid_request");
    if (e.attemptsLeft <= 0) return fail("too_many_attempts");
    if (input.code !== e.code) {
      e.attemptsLeft--;
      return fail("invalid_code", { attemptsLeft: e.attemptsLeft });
    }
    e.state = "completed";
    return Promise.resolve({ ok: true, execution: this.#view(e) });
  }

  #send(e: MemoryExecution): Promise<PageOutcome> {
    e.state = "code_sent";
    e.lastSentAt = this.now;
    e.attemptsLeft = 3;
    return Promise.resolve({ ok: true, execution: this.#view(e) });
  }

  #find(id: string, session: string): PageOutcome | undefined {
    const e = this.executions.get(id);
    if (!e || !secretMatches(session, e.sessionHash)) return { ok: false, problem: { code: "not_found" } };
    if (e.expiresAt <= this.now) return { ok: false, problem: { code: "execution_expired" } };
    return undefined;
  }

  #view(e: MemoryExecution): PageExecution {
    return {
      id: e.id,
      state: e.state,
      title: e.title,
      branding: e.branding ?? DEFAULT_BRANDING,
      maskedEmail: e.address ? `${e.address[0]}***@${e.address.split("@")[1]}` : undefined,
      codeLength: 6,
      codeExpiresAt: e.lastSentAt ? new Date(e.lastSentAt + 10 * 60_000).toISOString() : undefined,
      resendAvailableAt: new Date((e.lastSentAt ?? 0) + e.cooldownSeconds * 1000).toISOString(),
      denial: e.denial ? { code: e.denial } : undefined,
      returnTo: e.returnTo,
      resultToken: e.state === "completed" ? "header.payload.signature" : undefined,
      expiresAt: new Date(e.expiresAt).toISOString(),
    };
  }
}
