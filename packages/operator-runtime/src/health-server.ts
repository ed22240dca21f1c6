// /healthz, /startz, /readyz and /metrics on their own port. It loads nothing but node:http (and
// the clock), so a process opens it first, before the modules that take seconds to load.
// Readiness means "started and every check passes" (caches synced, ...), never "is leader":
// followers serve the HTTP API too.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import { type Cancel, type Clock, systemClock } from "./clock.ts";

export interface ReadinessCheck {
  name: string;
  ready(): boolean;
}

export interface HealthServerOptions {
  port: number;
  host?: string;
  clock?: Clock;
}

export interface HealthServer {
  readonly port: number;
  /** More conditions for /readyz (informers synced, a certificate loaded, …). */
  addReadinessCheck: (...checks: ReadinessCheck[]) => void;
  /** Serves /metrics from `registry`; 503 until then. */
  serveMetrics: (registry: Pick<Registry, "metrics" | "contentType">) => void;
  /**
   * The process has loaded and registered every readiness check: /startz passes, and /readyz
   * follows the checks. Until then both answer 503 "starting".
   */
  started: () => void;
  close: () => Promise<void>;
}

/** The longest a starting process holds a `?wait=<seconds>` request. */
const MAX_WAIT_SECONDS = 60;
const POLL_MS = 100;

/**
 * Listens at once. `/healthz` answers whenever the event loop runs (liveness). `/startz` passes
 * once `started()` was called (the startup probe), `/readyz` once started and every check passes.
 *
 * While the process starts, a probe asking `/startz?wait=<seconds>` or `/readyz?wait=<seconds>`
 * is held until it would pass (or the wait, meant to be under the probe's timeout, ends) instead
 * of failing at once: the kubelet records every failed probe as an `Unhealthy` Event, and loading
 * and syncing are a normal start, not a failure. Once the process has been ready, /readyz answers
 * at once, so a later loss of readiness shows in the next probe.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const clock = options.clock ?? systemClock;
  const checks: ReadinessCheck[] = [];
  let registry: Pick<Registry, "metrics" | "contentType"> | undefined;
  let started = false;
  let hasBeenReady = false;
  let closing = false;
  const held = new Set<() => void>();

  const notStarted = (): string[] => (started ? [] : ["starting"]);
  const notReady = (): string[] => {
    if (!started) return ["starting"];
    const failing = checks.filter((c) => !c.ready()).map((c) => c.name);
    if (!failing.length) hasBeenReady = true;
    return failing;
  };

  const answer = (res: ServerResponse, failing: string[]) => {
    res.writeHead(failing.length ? 503 : 200, { "content-type": "text/plain" });
    res.end(failing.length ? `not ready: ${failing.join(", ")}\n` : "ok\n");
  };

  /** Answers with `failing()`, holding a `?wait=` request while `mayHold()` and it fails. */
  const conditional = (
    req: IncomingMessage,
    res: ServerResponse,
    query: URLSearchParams,
    failing: () => string[],
    mayHold: () => boolean,
  ) => {
    const now = failing();
    const wait = Math.min(Number(query.get("wait") ?? 0) || 0, MAX_WAIT_SECONDS);
    if (!now.length || wait <= 0 || closing || !mayHold()) {
      answer(res, now);
      return;
    }
    const deadline = clock.now().getTime() + wait * 1000;
    let timer: Cancel = () => {};
    const release = () => {
      timer();
      held.delete(finish);
    };
    const finish = () => {
      release();
      answer(res, failing());
    };
    const poll = () => {
      if (!failing().length || clock.now().getTime() >= deadline) finish();
      else timer = clock.after(POLL_MS, poll);
    };
    held.add(finish);
    req.once("close", release);
    timer = clock.after(POLL_MS, poll);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://health");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    switch (url.pathname) {
      case "/healthz":
      case "/livez":
        res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
        return;
      case "/startz":
        conditional(req, res, url.searchParams, notStarted, () => true);
        return;
      case "/readyz":
        conditional(req, res, url.searchParams, notReady, () => !hasBeenReady);
        return;
      case "/metrics": {
        const r = registry;
        if (!r) {
          res.writeHead(503, { "content-type": "text/plain" }).end("starting\n");
          return;
        }
        r.metrics().then(
          (text) => res.writeHead(200, { "content-type": r.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
        return;
      }
      default:
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", resolve);
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : options.port,
    addReadinessCheck: (...more) => void checks.push(...more),
    serveMetrics: (r) => void (registry = r),
    started: () => void (started = true),
    close: () => {
      closing = true;
      for (const finish of [...held]) finish();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
