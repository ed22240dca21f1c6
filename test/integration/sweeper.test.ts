// The leader-only sweeper against the real API server, in a namespace standing in for the
// operator's (where records and counters live): expired executions, challenges and throttles go;
// live ones, Secrets of other components and unlabelled Secrets stay. In a tenant's namespace it
// may not delete anything.
import { CoreV1Api } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import {
  CHALLENGE_COMPONENT,
  COMPONENT_LABEL,
  EXECUTION_COMPONENT,
  EXPIRES_AT_ANNOTATION,
  EXPIRES_BUCKET_LABEL,
  expiryBucket,
  THROTTLE_COMPONENT,
} from "../../src/kinds/labels.ts";
import { Sweeper } from "../../src/controllers/sweeper/sweeper.ts";
import { createLogger } from "../../src/log/logger.ts";
import { FakeClock } from "@emailauth/operator-runtime";
import { controlPlane, createTestNamespace, grantOperatorNamespace, grantOperatorSecrets } from "../harness/context.ts";
import { coreApi, KubeClient } from "@emailauth/operator-runtime";

describe("Sweeper", () => {
  it("deletes expired short-lived Secrets in bounded batches, as the operator, by due bucket and hourly in full", async () => {
    const plane = controlPlane();
    const ns = await createTestNamespace(plane.admin(), "sweep");
    await grantOperatorSecrets(plane.admin(), ns);
    const admin = plane.admin().makeApiClient(CoreV1Api);
    const clock = new FakeClock(new Date("2026-06-01T12:00:00Z"));
    const sweeper = new Sweeper({
      core: coreApi(new KubeClient(plane.operator())),
      namespace: ns,
      clock,
      log: createLogger({ level: "silent" }),
      batchSize: 2,
    });
    // A new leader's first round lists everything; here there is nothing yet.
    expect(await sweeper.sweep()).toBe(0);

    const secret = (name: string, component: string | undefined, expiresAt: string, bucketed = true) =>
      admin.createNamespacedSecret({
        namespace: ns,
        body: {
          metadata: {
            name,
            labels: {
              ...(component ? { [COMPONENT_LABEL]: component } : {}),
              ...(bucketed ? { [EXPIRES_BUCKET_LABEL]: expiryBucket(Date.parse(expiresAt)) } : {}),
            },
            annotations: { [EXPIRES_AT_ANNOTATION]: expiresAt },
          },
        },
      });
    const past = "2026-06-01T11:00:00Z";
    const future = "2026-06-01T15:00:00Z";
    for (let i = 0; i < 3; i++) await secret(`old-exec-${i}`, EXECUTION_COMPONENT, past);
    await secret("old-challenge", CHALLENGE_COMPONENT, past);
    await secret("old-throttle", THROTTLE_COMPONENT, past);
    await secret("live-exec", EXECUTION_COMPONENT, future);
    await secret("not-ours", undefined, past);
    // Written by an earlier version, without a bucket: only a full list finds it.
    await secret("old-unbucketed", EXECUTION_COMPONENT, past, false);
    const left = async () =>
      (await admin.listNamespacedSecret({ namespace: ns })).items.map((s) => s.metadata?.name).sort();

    expect(await sweeper.sweep()).toBe(2);
    expect(await sweeper.sweep()).toBe(2);
    expect(await sweeper.sweep()).toBe(1);
    expect(await sweeper.sweep()).toBe(0);
    expect(await left()).toEqual(["live-exec", "not-ours", "old-unbucketed"]);

    clock.advance(60 * 60_000);
    expect(await sweeper.sweep()).toBe(1);
    expect(await left()).toEqual(["live-exec", "not-ours"]);
  });

  it("cannot delete in a watched tenant namespace, where the operator only reads Secrets", async () => {
    const plane = controlPlane();
    const tenant = await createTestNamespace(plane.admin(), "sweep-tenant");
    await grantOperatorNamespace(plane.admin(), tenant);
    const admin = plane.admin().makeApiClient(CoreV1Api);
    // As an earlier version left its records beside the stage.
    await admin.createNamespacedSecret({
      namespace: tenant,
      body: {
        metadata: {
          name: "old-exec",
          labels: { [COMPONENT_LABEL]: EXECUTION_COMPONENT },
          annotations: { [EXPIRES_AT_ANNOTATION]: "2026-06-01T11:00:00Z" },
        },
      },
    });
    const sweeper = new Sweeper({
      core: coreApi(new KubeClient(plane.operator())),
      namespace: tenant,
      clock: new FakeClock(new Date("2026-06-01T12:00:00Z")),
      log: createLogger({ level: "silent" }),
    });
    expect(await sweeper.sweep()).toBe(0);
    const left = (await admin.listNamespacedSecret({ namespace: tenant })).items.map((s) => s.metadata?.name);
    expect(left).toEqual(["old-exec"]);
  });
});
