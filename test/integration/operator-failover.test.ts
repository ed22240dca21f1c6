// Two operator processes share one Lease: exactly one reconciles; killing it (no release)
// hands over within the lease duration, and what changed meanwhile is reconciled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { controlPlane, createTestNamespace, grantOperatorNamespace } from "../harness/context.ts";
import { objects, readyIs } from "../harness/objects.ts";
import { startOperator, type OperatorProcess } from "../harness/operator-process.ts";
import { waitFor } from "../harness/wait.ts";

const plane = controlPlane();
const admin = plane.admin();
const LEASE_MS = 4000;
let ns = "";
let k: ReturnType<typeof objects>;
const operators: OperatorProcess[] = [];

const isLeader = async (op: OperatorProcess) => (await op.metric("emailauth_leader")) === 1;

beforeAll(async () => {
  ns = await createTestNamespace(admin, "failover");
  await grantOperatorNamespace(admin, ns);
  k = objects(admin, ns);
  const args = (id: string) => [
    `--namespaces=${ns}`,
    `--leader-elect-resource-name=failover-${ns}`,
    `--leader-elect-identity=${id}`,
    `--leader-elect-lease-duration=${LEASE_MS}ms`,
    "--leader-elect-renew-deadline=3s",
    "--leader-elect-retry-period=500ms",
  ];
  operators.push(
    ...(await Promise.all([
      startOperator({ kubeconfig: plane.info.operatorKubeconfig, args: args("a") }),
      startOperator({ kubeconfig: plane.info.operatorKubeconfig, args: args("b") }),
    ])),
  );
});

afterAll(async () => {
  await Promise.all(operators.map((o) => o.stop()));
});

describe("two operator processes", () => {
  it("elect exactly one leader, which reconciles; both are ready", async () => {
    const leaders = await waitFor(
      async () => {
        const flags = await Promise.all(operators.map(isLeader));
        return flags.filter(Boolean).length === 1 ? flags : undefined;
      },
      { what: "exactly one leader", timeoutMs: 15_000, intervalMs: 200 },
    );
    expect(leaders.filter(Boolean)).toHaveLength(1);
    for (const op of operators) expect((await fetch(`${op.healthUrl}/readyz`)).status).toBe(200);
    await k.create("emailauthenticatorstages", "before", {});
    await k.waitFor("emailauthenticatorstages", "before", readyIs("True"), "reconciled by the leader");
  });

  it("hand over within the lease duration when the leader is killed, losing nothing", async () => {
    const flags = await Promise.all(operators.map(isLeader));
    const leader = operators[flags.indexOf(true)];
    const follower = operators[flags.indexOf(false)];
    if (!leader || !follower) throw new Error("no leader/follower pair");
    await leader.kill(); // SIGKILL: no chance to release the lease
    const killedAt = Date.now();
    // Changed while nobody leads: must be reconciled by the successor.
    await k.create("emailauthenticatorstages", "meanwhile", {});
    await waitFor(async () => ((await isLeader(follower)) ? true : undefined), {
      what: "the follower to lead",
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    const handover = Date.now() - killedAt;
    // Lease duration plus one retry period and the time to notice.
    expect(handover).toBeLessThan(LEASE_MS + 3000);
    await k.waitFor("emailauthenticatorstages", "meanwhile", readyIs("True"), "reconciled by the new leader");
    await k.waitFor("emailauthenticatorstages", "before", readyIs("True"), "still Ready");
  });
});
