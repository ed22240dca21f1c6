// `kubectl apply -k` of an overlay on manifests/overlays/example (itself an overlay on the base in
// manifests/install), changing only what a user here must: the relay (the in-cluster Mailpit)
// and two replicas instead of three, to spare the machine.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAILPIT_SMTP_HOST, MAILPIT_SMTP_PORT } from "../harness/cluster/stack.ts";
import { repoRoot } from "../harness/paths.ts";
import { kubectl, skipReason, timed } from "./support/cluster.ts";
import { deleteClientPod, startClientPod, type ClientPod } from "./support/client-pod.ts";
import { enrollAndSignIn } from "./support/flows.ts";
import { kstatus } from "./support/kstatus.ts";
import {
  API_BASE,
  applyExamples,
  createApiCertificate,
  installMailpit,
  OPERATOR_NS,
  probeFailures,
  RELEASE,
  tagLocalImage,
  uninstallManifests,
  waitLeader,
  waitReadyReplicas,
} from "./support/operator.ts";

if (skipReason) console.log(`kustomize-install: skipped: ${skipReason}`);

/** A user's overlay on the example overlay; kustomize wants relative paths to other roots. */
function overlay(): string {
  const dir = mkdtempSync(join(tmpdir(), "e2e-overlay-"));
  const example = relative(dir, join(repoRoot, "manifests", "overlays", "example"));
  writeFileSync(
    join(dir, "kustomization.yaml"),
    `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ${example}
patches:
  - target: {kind: Deployment, name: email-authenticator-operator}
    patch: |-
      - {op: replace, path: /spec/replicas, value: 2}
  - target: {kind: ConfigMap, name: email-authenticator-global-settings}
    patch: |-
      - {op: replace, path: /data/host, value: ${MAILPIT_SMTP_HOST}}
      - {op: replace, path: /data/port, value: "${MAILPIT_SMTP_PORT}"}
      - {op: replace, path: /data/tlsMode, value: None}
`,
  );
  return dir;
}

describe.skipIf(skipReason !== undefined)(
  "kubectl apply -k (base manifests/install, overlay manifests/overlays/example)",
  () => {
    let mail: Awaited<ReturnType<typeof installMailpit>>;
    let client: ClientPod;
    let installed: Date;
    const dir = overlay();

    beforeAll(
      () =>
        timed("kustomize-install: install", async () => {
          installed = new Date();
          mail = await installMailpit();
          tagLocalImage("registry.example.com/platform/email-authenticator-operator:0.1.0");
          kubectl(["apply", "-k", dir]);
          const { caPem } = createApiCertificate();
          applyExamples();
          client = await startClientPod(API_BASE, caPem);
        }),
      300_000,
    );

    afterAll(
      () =>
        timed("kustomize-install: clean-up", () => {
          deleteClientPod();
          uninstallManifests(["-k", dir]);
        }),
      300_000,
    );

    it("runs the overlay's image in two ready replicas, one leading", async () => {
      const names = await waitReadyReplicas(2);
      expect(names).toContain(await waitLeader());
      expect(probeFailures(installed).failures, "no probe failed while the Pods started").toEqual([]);
      expect(
        kubectl([
          "-n",
          OPERATOR_NS,
          "get",
          "deployment",
          RELEASE,
          "-o",
          "jsonpath={.spec.template.spec.containers[0].image}",
        ]),
      ).toBe("registry.example.com/platform/email-authenticator-operator:0.1.0");
    });

    it("completes Setup and Authenticate from a client Pod; every kind Current", async () => {
      await enrollAndSignIn(client, mail, "carol-kustomize");
      for (const line of kstatus(["-n", "default", "emailauthenticatorstages,flowbindings,emaildevices"]))
        expect(line, JSON.stringify(line)).toMatchObject({ status: "Current" });
    });
  },
);
