// Polling with a deadline, for the few things that have no watch (process readiness).
export interface WaitOptions {
  what: string;
  timeoutMs?: number;
  intervalMs?: number;
  /** Checked each round: a process that died will never become ready, so stop at once. */
  failFast?: () => Error | undefined;
}

export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, o: WaitOptions): Promise<T> {
  const deadline = Date.now() + (o.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    const fatal = o.failFast?.();
    if (fatal) throw fatal;
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const cause = last instanceof Error ? `: ${last.message}` : "";
      throw new Error(`timed out after ${o.timeoutMs ?? 30_000} ms waiting for ${o.what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 100));
  }
}
