// `npm run bench`: what the operator costs on top of the API server it stands on. Every number is
// a ratio against a floor measured in the same run on the same control plane, so machines of
// different speed give comparable results; nothing here passes or fails on wall-clock time.
//   verify       one code verification (read, counted attempt, preconditioned delete) vs the
//                floor of the same three raw Secret calls
//   reconcile    stage created → status Ready, vs the floor of one create + one status patch
//   heap         the process heap with the operator running and its caches filled, vs before it started
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import { parseConfig } from "../../src/config/config.ts";
import { codeMac } from "../../src/executions/codes.ts";
import { ExecutionRecords } from "../../src/executions/execution-records.ts";
import { parseExecutionId } from "../../src/executions/ids.ts";
import { Throttles } from "../../src/executions/throttle.ts";
import { verifyCode } from "../../src/executions/verify.ts";
import { createLogger } from "../../src/log/logger.ts";
import { Operator } from "../../src/operator/operator.ts";
import { systemClock } from "@emailauth/operator-runtime";
import { ControlPlane } from "../harness/controlplane.ts";
import { createTestNamespace, grantOperatorNamespace } from "../harness/context.ts";
import { loadKubeconfig } from "../harness/kubeconfig.ts";
import { waitFor } from "../harness/wait.ts";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
async function timed(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

const plane = await ControlPlane.start({ progress: (m) => console.log(`bench: ${m}`) });
try {
  const admin = plane.admin();
  const kc = loadKubeconfig(plane.info.operatorKubeconfig);
  const ns = await createTestNamespace(admin, "bench");
  await grantOperatorNamespace(admin, ns);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = admin.makeApiClient(CustomObjectsApi);
  const stage = (await custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ns,
    plural: "emailauthenticatorstages",
    body: { apiVersion: `${GROUP}/${VERSION}`, kind: "EmailAuthenticatorStage", metadata: { name: "bench" }, spec: {} },
  })) as { metadata: { uid: string } };

  // Floor: the three raw calls a verification cannot do without.
  const floor: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const name = `floor-${i}`;
    const created = await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name }, stringData: { a: "1" } },
    });
    floor.push(
      await timed(async () => {
        const read = await core.readNamespacedSecret({ namespace: ns, name });
        const updated = await core.replaceNamespacedSecret({
          namespace: ns,
          name,
          body: { ...read, stringData: { a: "2" } },
        });
        await core.deleteNamespacedSecret({
          namespace: ns,
          name,
          body: { preconditions: { uid: created.metadata?.uid, resourceVersion: updated.metadata?.resourceVersion } },
        });
      }),
    );
  }

  const key = Buffer.alloc(32, 7);
  const store = new ExecutionRecords(core, systemClock);
  const throttles = new Throttles(core, systemClock, key);
  const verify: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const executionId = parseExecutionId(i.toString(16).padStart(32, "0"))!;
    const now = new Date();
    const code = "123456";
    await store.putChallenge(
      ns,
      {
        executionId,
        stage: "bench",
        mac: codeMac(key, { executionId, stage: "bench", addressKey: "a@example.com", code }),
        issuedAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 600_000).toISOString(),
        attempts: 0,
      },
      stage.metadata.uid,
    );
    verify.push(
      await timed(async () => {
        const r = await verifyCode({
          store,
          throttles,
          key,
          clock: systemClock,
          limits: { attemptsPerCode: 5, failuresPerDay: 10 },
          namespace: ns,
          executionId,
          stage: "bench",
          userId: "u",
          addressKey: "a@example.com",
          code,
        });
        if (!r.ok) throw new Error("bench verification failed");
      }),
    );
  }

  // Reconcile: the operator in this process, leading, watching the bench namespace.
  const log = createLogger({ level: "silent" });
  const config = parseConfig([`--namespaces=${ns}`, "--health-port=0", "--http-port=0", "--leader-elect=false"], {});
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const operator = new Operator({ config, kc, log });
  await operator.start();
  operator.startLeading();
  const statusFloor: number[] = [];
  const reconcile: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const name = `floor-stage-${i}`;
    statusFloor.push(
      await timed(async () => {
        await custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: ns,
          plural: "emaildevices",
          body: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: "EmailDevice",
            metadata: { name },
            spec: { stageRef: { name: "none" }, user: { id: "u" }, email: "a@example.com" },
          },
        });
        await custom.patchNamespacedCustomObjectStatus(
          {
            group: GROUP,
            version: VERSION,
            namespace: ns,
            plural: "emaildevices",
            name,
            body: { status: { observedGeneration: 1 } },
          },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        );
      }),
    );
    reconcile.push(
      await timed(async () => {
        await custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace: ns,
          plural: "emailauthenticatorstages",
          body: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: "EmailAuthenticatorStage",
            metadata: { name: `s-${i}` },
            spec: {},
          },
        });
        await waitFor(
          async () => {
            const o = (await custom.getNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace: ns,
              plural: "emailauthenticatorstages",
              name: `s-${i}`,
            })) as { status?: { conditions?: { type: string; status: string }[] } };
            return o.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ? true : undefined;
          },
          { what: "stage Ready", timeoutMs: 30_000, intervalMs: 5 },
        );
      }),
    );
  }
  global.gc?.();
  const heapWith = process.memoryUsage().heapUsed;
  await operator.stop();

  const rows = [
    ["verify", median(verify), median(floor)],
    ["reconcile", median(reconcile), median(statusFloor)],
  ] as const;
  console.log(`\nbench (${ROUNDS} rounds, medians; ratio = operator / API-server floor)`);
  for (const [name, value, base] of rows)
    console.log(
      `  ${name.padEnd(10)} ${(value / base).toFixed(2)}x   (${value.toFixed(1)} ms vs floor ${base.toFixed(1)} ms)`,
    );
  const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
  console.log(
    `  heap       ${(heapWith / heapBefore).toFixed(2)}x   (${mib(heapWith)} MiB running with ${ROUNDS + 1} stages and ${ROUNDS} devices cached vs ${mib(heapBefore)} MiB before the operator started)`,
  );
} finally {
  await plane.stop();
}
