import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { Backoff } from "./backoff.ts";
import { FakeClock } from "./clock.ts";
import { Controller } from "./controller.ts";
import type { ControllerMetrics, ReconcileOutcome } from "./controller.ts";
import { TerminalError } from "./reconcile-result.ts";
import type { ReconcileContext, Reconciler, Request, Result } from "./reconcile-result.ts";

type Step = (req: Request, ctx: ReconcileContext) => Promise<Result> | Result;

/** Lets queued callbacks and promise chains run. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
};

function setup(options: { workers?: number; step?: Step; metrics?: ControllerMetrics } = {}) {
  const clock = new FakeClock();
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, callback) {
      for (const l of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      callback();
    },
  });
  const calls: Request[] = [];
  let step: Step = options.step ?? (() => ({}));
  const reconciler: Reconciler = {
    reconcile: async (req, ctx) => {
      calls.push(req);
      return step(req, ctx);
    },
  };
  const outcomes: [ReconcileOutcome, number][] = [];
  const depths: number[] = [];
  const metrics: ControllerMetrics = options.metrics ?? {
    onReconcile: (name, outcome, ms) => {
      expect(name).toBe("stages");
      outcomes.push([outcome, ms]);
    },
    onQueueDepth: (_name, depth) => depths.push(depth),
  };
  let ids = 0;
  const controller = new Controller({
    name: "stages",
    reconciler,
    log: pino({ level: "debug", formatters: { level: (label) => ({ level: label }) } }, stream),
    clock,
    workers: options.workers ?? 1,
    backoff: new Backoff({ initialMs: 5, maxMs: 1000, jitter: 0 }),
    metrics,
    newReconcileID: () => `r${++ids}`,
  });
  return {
    clock,
    controller,
    calls,
    outcomes,
    depths,
    lines,
    setStep: (s: Step) => (step = s),
  };
}

const A = { namespace: "team-a", name: "email" };
const B = { namespace: "team-b", name: "email" };

describe("Controller outcomes", () => {
  it("reconciles an enqueued request once, with a child logger and the clock's duration", async () => {
    const t = setup();
    t.setStep((_req, ctx) => {
      t.clock.advance(30);
      ctx.log.info("inside");
      return {};
    });
    t.controller.enqueue(A);
    t.controller.enqueue(A);
    t.controller.start();
    await settle();
    expect(t.calls).toEqual([A]);
    expect(t.outcomes).toEqual([["success", 30]]);
    expect(t.lines.find((l) => l.msg === "inside")).toMatchObject({
      controller: "stages",
      namespace: "team-a",
      name: "email",
      reconcileID: "r1",
    });
    expect(t.depths).toEqual([1, 0]);
  });

  it("retries an error with growing backoff, logs it normalised, and forgets it after success", async () => {
    const t = setup();
    let failures = 3;
    t.setStep(() => {
      if (failures-- > 0) throw new Error("boom");
      return {};
    });
    t.controller.enqueue(A);
    t.controller.start();
    await settle();
    expect(t.calls).toHaveLength(1);
    t.clock.advance(4);
    await settle();
    expect(t.calls).toHaveLength(1); // first retry is due after 5 ms
    t.clock.advance(1);
    await settle();
    expect(t.calls).toHaveLength(2);
    t.clock.advance(10);
    await settle();
    expect(t.calls).toHaveLength(3);
    t.clock.advance(20);
    await settle();
    expect(t.calls).toHaveLength(4);
    expect(t.outcomes.map(([o]) => o)).toEqual(["error", "error", "error", "success"]);
    const errorLog = t.lines.find((l) => l.msg === "reconcile failed; retrying with backoff");
    expect(errorLog).toMatchObject({
      level: "error",
      err: { kind: "unknown", message: "boom", retryable: true },
      failures: 1,
    });
    // Backoff was forgotten: the next failure waits 5 ms again.
    t.setStep(() => {
      throw new Error("again");
    });
    t.controller.enqueue(A);
    await settle();
    t.clock.advance(5);
    await settle();
    expect(t.calls).toHaveLength(6);
  });

  it("does not retry a TerminalError and clears earlier backoff", async () => {
    const t = setup();
    let n = 0;
    t.setStep(() => {
      if (n++ === 0) throw new Error("transient");
      throw new TerminalError("spec.connection.credentialsRef names a missing key");
    });
    t.controller.enqueue(A);
    t.controller.start();
    await settle();
    t.clock.advance(5);
    await settle();
    t.clock.advance(60_000);
    await settle();
    expect(t.calls).toHaveLength(2);
    expect(t.outcomes.map(([o]) => o)).toEqual(["error", "terminal_error"]);
    expect(t.lines.find((l) => String(l.msg).includes("terminal"))).toMatchObject({
      err: { message: "spec.connection.credentialsRef names a missing key" },
    });
    // A later change is reconciled again; had the backoff not been forgotten this would wait.
    t.controller.enqueue(A);
    await settle();
    expect(t.calls).toHaveLength(3);
  });

  it("requeues after requeueAfterMs, not before", async () => {
    const t = setup({ step: () => ({ requeueAfterMs: 1000 }) });
    t.controller.enqueue(A);
    t.controller.start();
    await settle();
    t.clock.advance(999);
    await settle();
    expect(t.calls).toHaveLength(1);
    t.clock.advance(1);
    await settle();
    expect(t.calls).toHaveLength(2);
    expect(t.outcomes.map(([o]) => o)).toEqual(["requeue_after", "requeue_after"]);
  });

  it("treats a zero or invalid requeueAfterMs as plain success", async () => {
    const t = setup({ step: () => ({ requeueAfterMs: Number.POSITIVE_INFINITY }) });
    t.controller.enqueue(A);
    t.controller.start();
    await settle();
    t.clock.advance(10 * 60_000);
    await settle();
    expect(t.outcomes.map(([o]) => o)).toEqual(["success"]);
    expect(t.clock.pendingTimers()).toBe(0);
  });

  it("contains thrown non-Errors and keeps the worker alive", async () => {
    const t = setup({
      step: (req) => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- the point: foreign code may throw anything
        throw req.name === "email" ? "a string" : { token: "t0ps3cret" };
      },
    });
    t.controller.enqueue(A);
    t.controller.enqueue({ namespace: "team-a", name: "other" });
    t.controller.start();
    await settle();
    const messages = t.lines.filter((l) => l.level === "error").map((l) => (l.err as { message: string }).message);
    expect(messages).toEqual(["a string", "non-error object thrown (keys: token)"]);
    expect(JSON.stringify(t.lines)).not.toContain("t0ps3cret");
  });

  it("survives a metrics hook that throws", async () => {
    let calls = 0;
    const t = setup({
      metrics: {
        onReconcile: () => {
          throw new Error("metrics broke");
        },
        onQueueDepth: () => {},
      },
      step: () => {
        calls++;
        return {};
      },
    });
    t.controller.enqueue(A);
    t.controller.enqueue(B);
    t.controller.start();
    await settle();
    expect(calls).toBe(2);
    expect(t.lines.filter((l) => l.msg === "controller worker failed outside the reconciler")).toHaveLength(2);
  });
});

describe("Controller concurrency", () => {
  function gated() {
    const releases = new Map<string, () => void>();
    const step: Step = (req) =>
      new Promise<Result>((resolve) => {
        releases.set(req.namespace, () => resolve({}));
      });
    return { releases, step };
  }

  it("runs different keys in parallel up to the worker count", async () => {
    const g = gated();
    const t = setup({ workers: 2, step: g.step });
    t.controller.enqueue(A);
    t.controller.enqueue(B);
    t.controller.enqueue({ namespace: "team-c", name: "email" });
    t.controller.start();
    await settle();
    expect(t.calls.map((r) => r.namespace)).toEqual(["team-a", "team-b"]);
    g.releases.get("team-a")?.();
    await settle();
    expect(t.calls.map((r) => r.namespace)).toEqual(["team-a", "team-b", "team-c"]);
  });

  it("never reconciles one key twice at once, and reconciles it again after a change during the first", async () => {
    const g = gated();
    const t = setup({ workers: 4, step: g.step });
    t.controller.enqueue(A);
    t.controller.start();
    await settle();
    t.controller.enqueue(A);
    t.controller.enqueue(A);
    await settle();
    expect(t.calls).toHaveLength(1);
    g.releases.get("team-a")?.();
    await settle();
    expect(t.calls).toHaveLength(2);
    g.releases.get("team-a")?.();
    await settle();
    expect(t.calls).toHaveLength(2);
  });
});

describe("Controller lifecycle", () => {
  it("drains reconciles in flight on stop, then ignores new work", async () => {
    let release = () => {};
    let signal: AbortSignal | undefined;
    const t = setup({
      step: (_req, ctx) => {
        signal = ctx.signal;
        return new Promise((resolve) => (release = () => resolve({})));
      },
    });
    t.controller.enqueue(A);
    t.controller.start();
    await settle();
    const stopped = t.controller.stop(30_000);
    t.controller.enqueue(B);
    release();
    expect(await stopped).toBe(true);
    expect(signal?.aborted).toBe(false);
    expect(t.calls).toEqual([A]);
    expect(t.clock.pendingTimers()).toBe(0);
    expect(() => t.controller.start()).toThrow(/cannot start again/);
  });

  it("aborts the reconcile signal when the shutdown deadline passes", async () => {
    let aborted = false;
    const t = setup({
      step: (_req, ctx) =>
        new Promise<Result>((_resolve, reject) => {
          ctx.signal.addEventListener("abort", () => {
            aborted = true;
            reject(ctx.signal.reason as Error);
          });
        }),
    });
    t.controller.enqueue(A);
    t.controller.start();
    await settle();
    const stopped = t.controller.stop(5000);
    await settle();
    expect(aborted).toBe(false);
    t.clock.advance(5000);
    expect(await stopped).toBe(false);
    expect(aborted).toBe(true);
    await settle();
    expect(t.lines.some((l) => (l.err as { kind?: string } | undefined)?.kind === "aborted")).toBe(true);
  });

  it("can be stopped without having started, and refuses to start twice", async () => {
    const t = setup();
    t.controller.start();
    expect(() => t.controller.start()).toThrow(/already started/);
    expect(await setup().controller.stop(10)).toBe(true);
  });

  it("rejects a worker count that is not a positive integer", () => {
    expect(() => setup({ workers: 0 })).toThrow(RangeError);
  });
});
