// On a real single-node cluster (k3s in Docker): the CRDs install, the examples are accepted with
// their defaults, and the shipped RBAC applies. Needs a Docker engine; without one it skips and
// says so (the real kube-apiserver tests cover the same ground on every machine).
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import { createAll, readManifests } from "../harness/manifests.ts";
import { crdsDir, repoRoot } from "../harness/paths.ts";
import { waitFor } from "../harness/wait.ts";

function dockerEngine(): string | undefined {
  try {
    execFileSync("docker", ["info", "--format", "{{.ServerVersion}}"], {
      stdio: ["ignore", "pipe", "ignore"],
      timeout: 10_000,
    });
    return undefined;
  } catch {
    return "no Docker engine answers `docker info` on this machine";
  }
}

const missing = dockerEngine();
if (missing) console.warn(`k3s end-to-end tests skipped: ${missing}`);

describe.skipIf(missing !== undefined)("k3s end to end", () => {
  let stop: (() => Promise<unknown>) | undefined;
  let kc: KubeConfig;

  beforeAll(async () => {
    const { K3sContainer } = await import("@testcontainers/k3s");
    const k3s = await new K3sContainer("rancher/k3s:v1.36.3-k3s1").start();
    stop = () => k3s.stop();
    kc = new KubeConfig();
    kc.loadFromString(k3s.getKubeConfig());
  }, 300_000);

  afterAll(async () => {
    await stop?.();
  });

  it("installs the CRDs, the operator's RBAC and the examples", async () => {
    const crds = readdirSync(crdsDir).flatMap((f) => readManifests(join(crdsDir, f)));
    await createAll(kc, crds);
    const install = join(repoRoot, "manifests", "install");
    await createAll(kc, [
      ...readManifests(join(install, "namespace.yaml")),
      ...readManifests(join(install, "rbac.yaml")),
    ]);
    const api = kc.makeApiClient(CustomObjectsApi);
    await waitFor(
      async () => (
        await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: "emailauthenticatorstages" }),
        true
      ),
      { what: "stages listable", timeoutMs: 60_000 },
    );
    await createAll(kc, readManifests(join(repoRoot, "manifests", "examples", "email-setup-stage.yaml")));
    const stage = (await api.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: "default",
      plural: "emailauthenticatorstages",
      name: "email-setup",
    })) as { spec: { connection: { port: number } } };
    expect(stage.spec.connection.port).toBe(25);
  }, 120_000);
});
