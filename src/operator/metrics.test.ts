import { startHealthServer } from "@emailauth/operator-runtime";
import { afterEach, describe, expect, it } from "vitest";
import { OperatorMetrics } from "./metrics.ts";

let close: (() => Promise<void>) | undefined;
afterEach(async () => close?.());

describe("operator metrics", () => {
  it("exposes reconcile, queue, watch and leader metrics", async () => {
    let now = 10_000;
    const metrics = new OperatorMetrics(() => now);
    metrics.onReconcile("stage", "success", 12);
    metrics.onReconcile("stage", "error", 3);
    metrics.onQueueDepth("stage", 4);
    metrics.onWatchRestart("secrets", "idle");
    metrics.onEvent("secrets", new Date(7_000));
    metrics.leader.set(1);
    const s = await startHealthServer({ port: 0, host: "127.0.0.1" });
    s.serveMetrics(metrics.registry);
    close = s.close;
    const text = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
    expect(text).toMatch(/emailauth_reconcile_total\{controller="stage",result="success"\} 1/);
    expect(text).toMatch(/emailauth_reconcile_errors_total\{controller="stage"\} 1/);
    expect(text).toMatch(/emailauth_workqueue_depth\{controller="stage"\} 4/);
    expect(text).toMatch(/emailauth_watch_restarts_total\{resource="secrets",reason="idle"\} 1/);
    expect(text).toMatch(/emailauth_watch_last_event_age_seconds\{resource="secrets"\} 3/);
    expect(text).toMatch(/emailauth_leader 1/);
    now = 20_000;
  });
});
