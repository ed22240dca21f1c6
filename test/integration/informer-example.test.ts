// The runtime README's example controller (packages/operator-runtime/examples) against the
// real API server: it does what the README says, and an invalid object is only warned about.
import { CoreV1Api } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { startGreeter } from "../../packages/operator-runtime/examples/configmap-controller.ts";
import { createLogger } from "../../src/log/logger.ts";
import { controlPlane, createTestNamespace } from "../harness/context.ts";
import { waitFor } from "../harness/wait.ts";
import { KubeClient } from "@emailauth/operator-runtime";

const admin = controlPlane().admin();
const core = admin.makeApiClient(CoreV1Api);
let ns = "";

beforeAll(async () => {
  ns = await createTestNamespace(admin, "greeter");
});

const greeting = async (name: string) =>
  (await core.readNamespacedConfigMap({ name, namespace: ns })).metadata?.annotations?.["example.dev/greeting"];

describe("the runtime README's example controller", () => {
  it("annotates greeter ConfigMaps, follows edits, and only warns about invalid ones", async () => {
    const lines: string[] = [];
    const log = createLogger({ level: "warn", destination: { write: (line: string) => lines.push(line) } });
    const body = (name: string, who: string) => ({
      metadata: { name, namespace: ns, labels: { app: "greeter" } },
      data: { name: who },
    });
    await core.createNamespacedConfigMap({ namespace: ns, body: body("ada", "Ada") });
    const stop = await startGreeter(new KubeClient(admin), log);
    try {
      const opts = { timeoutMs: 15_000, intervalMs: 50 };
      await waitFor(async () => ((await greeting("ada")) === "Hello, Ada!" ? true : undefined), {
        what: "ada greeted",
        ...opts,
      });
      await core.createNamespacedConfigMap({ namespace: ns, body: body("nobody", "") });
      await waitFor(() => (lines.some((l) => l.includes("not a greeter")) ? true : undefined), {
        what: "a warning about nobody",
        ...opts,
      });
      expect(await greeting("nobody")).toBeUndefined();
      await core.replaceNamespacedConfigMap({ name: "ada", namespace: ns, body: body("ada", "Grace") });
      await waitFor(async () => ((await greeting("ada")) === "Hello, Grace!" ? true : undefined), {
        what: "ada greeted again",
        ...opts,
      });
    } finally {
      await stop();
    }
  });
});
