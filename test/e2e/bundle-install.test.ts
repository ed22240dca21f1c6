// `kubectl apply -f manifests/install/all.yaml` exactly as shipped (its image name answered by
// the local build), then the global settings ConfigMap and the API certificate the docs ask for:
// two replicas under restricted Pod Security and a completed flow from a client Pod.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../harness/paths.ts";
import { kubectl, skipReason, timed } from "./support/cluster.ts";
import { deleteClientPod, startClientPod, type ClientPod } from "./support/client-pod.ts";
import { enrollAndSignIn } from "./support/flows.ts";
import { kstatus } from "./support/kstatus.ts";
import {
  API_BASE,
  applyExamples,
  createApiCertificate,
  createGlobalSettings,
  installMailpit,
  OPERATOR_NS,
  operatorLogs,
  probeFailures,
  tagLocalImage,
  uninstallManifests,
  waitLeader,
  waitReadyReplicas,
} from "./support/operator.ts";

const bundle = join(repoRoot, "manifests", "install", "all.yaml");
if (skipReason) console.log(`bundle-install: skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)("kubectl apply -f manifests/install/all.yaml", () => {
  let mail: Awaited<ReturnType<typeof installMailpit>>;
  let client: ClientPod;
  let installed: Date;

  beforeAll(
    () =>
      timed("bundle-install: install", async () => {
        installed = new Date();
        mail = await installMailpit();
        tagLocalImage("email-authenticator-operator:0.1.0");
        kubectl(["apply", "-f", bundle]);
        createGlobalSettings();
        const { caPem } = createApiCertificate();
        applyExamples();
        client = await startClientPod(API_BASE, caPem);
      }),
    300_000,
  );

  afterAll(
    () =>
      timed("bundle-install: clean-up", () => {
        deleteClientPod();
        uninstallManifests(["-f", bundle]);
      }),
    300_000,
  );

  it("runs two ready replicas under restricted Pod Security, one leading", async () => {
    const names = await waitReadyReplicas(2);
    expect(names).toContain(await waitLeader());
    expect(probeFailures(installed).failures, "no probe failed while the Pods started").toEqual([]);
    expect(
      kubectl([
        "get",
        "namespace",
        OPERATOR_NS,
        "-o",
        "jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}",
      ]),
    ).toBe("restricted");
  });

  it("completes Setup and Authenticate from a client Pod; every kind Current; no code in the logs", async () => {
    const codes = await enrollAndSignIn(client, mail, "bob-bundle");
    for (const line of kstatus(["-n", "default", "emailauthenticatorstages,flowbindings,emaildevices"]))
      expect(line, JSON.stringify(line)).toMatchObject({ status: "Current" });
    const logs = operatorLogs();
    for (const code of codes) expect(logs).not.toContain(code);
  });
});
