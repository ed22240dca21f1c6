// Prometheus metrics on a registry of our own (no prom-client global state), shaped after
// controller-runtime's: reconcile totals and durations, queue depth, watch restarts and the
// age of the last event each informer saw, and whether this replica leads.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { InformerMetrics, RestartReason } from "@emailauth/operator-runtime";
import type { SendMetrics } from "../executions/sender.ts";
import type { RateLimitMetrics, RateLimitScope } from "../http/rate-limits.ts";
import type { ControllerMetrics, ReconcileOutcome } from "@emailauth/operator-runtime";

export class OperatorMetrics implements ControllerMetrics, InformerMetrics, SendMetrics, RateLimitMetrics {
  readonly registry = new Registry();
  readonly #reconciles: Counter<"controller" | "result">;
  readonly #reconcileErrors: Counter<"controller">;
  readonly #duration: Histogram<"controller">;
  readonly #depth: Gauge<"controller">;
  readonly #watchRestarts: Counter<"resource" | "reason">;
  readonly #lastEvent = new Map<string, number>();
  readonly leader: Gauge;
  readonly #sent: Counter<"namespace" | "stage">;
  readonly #sendFailures: Counter<"namespace" | "stage" | "reason">;
  readonly #certificateExpiry: Gauge;
  readonly #rateLimited: Counter<"scope">;

  constructor(now: () => number = Date.now) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "emailauth_" });
    this.#reconciles = new Counter({
      name: "emailauth_reconcile_total",
      help: "Reconciles by controller and result",
      labelNames: ["controller", "result"],
      registers,
    });
    this.#reconcileErrors = new Counter({
      name: "emailauth_reconcile_errors_total",
      help: "Reconciles that failed",
      labelNames: ["controller"],
      registers,
    });
    this.#duration = new Histogram({
      name: "emailauth_reconcile_duration_seconds",
      help: "Time per reconcile",
      labelNames: ["controller"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#depth = new Gauge({
      name: "emailauth_workqueue_depth",
      help: "Keys waiting in the work queue",
      labelNames: ["controller"],
      registers,
    });
    this.#watchRestarts = new Counter({
      name: "emailauth_watch_restarts_total",
      help: "Watches restarted after an error, a timeout or idleness",
      labelNames: ["resource", "reason"],
      registers,
    });
    const lastEvent = this.#lastEvent;
    new Gauge({
      name: "emailauth_watch_last_event_age_seconds",
      help: "Seconds since each informer last saw an event or bookmark",
      labelNames: ["resource"],
      registers,
      collect() {
        for (const [resource, at] of lastEvent) this.set({ resource }, (now() - at) / 1000);
      },
    });
    this.leader = new Gauge({
      name: "emailauth_leader",
      help: "1 while this replica holds the leader lease",
      registers,
    });
    this.#sent = new Counter({
      name: "emailauth_emails_sent_total",
      help: "Code emails handed to the relay",
      labelNames: ["namespace", "stage"],
      registers,
    });
    this.#sendFailures = new Counter({
      name: "emailauth_email_send_failures_total",
      help: "Code emails the relay did not take",
      labelNames: ["namespace", "stage", "reason"],
      registers,
    });
    this.#certificateExpiry = new Gauge({
      name: "emailauth_api_certificate_expiry_timestamp_seconds",
      help: "When the HTTP API's serving certificate expires (Unix time)",
      registers,
    });
    this.#rateLimited = new Counter({
      name: "emailauth_http_rate_limited_total",
      help: "API requests refused with 429 rate_limited, by limit (address, execution, unauthenticated)",
      labelNames: ["scope"],
      registers,
    });
  }

  onRateLimited(scope: RateLimitScope): void {
    this.#rateLimited.inc({ scope });
  }

  /** When the API's serving certificate stops being valid: alert well before it. */
  onServingCertificate(notAfter: Date): void {
    this.#certificateExpiry.set(notAfter.getTime() / 1000);
  }

  onReconcile(controller: string, outcome: ReconcileOutcome, durationMs: number): void {
    this.#reconciles.inc({ controller, result: outcome });
    if (outcome === "error" || outcome === "terminal_error") this.#reconcileErrors.inc({ controller });
    this.#duration.observe({ controller }, durationMs / 1000);
  }

  onQueueDepth(controller: string, depth: number): void {
    this.#depth.set({ controller }, depth);
  }

  onEmailSent(namespace: string, stage: string): void {
    this.#sent.inc({ namespace, stage });
  }

  onEmailSendFailure(namespace: string, stage: string, reason: string): void {
    this.#sendFailures.inc({ namespace, stage, reason });
  }

  onWatchRestart(resource: string, reason: RestartReason): void {
    this.#watchRestarts.inc({ resource, reason });
  }

  onEvent(resource: string, at: Date): void {
    this.#lastEvent.set(resource, at.getTime());
  }
}
