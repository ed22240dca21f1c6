// The API server goes away and comes back (same etcd): the operator reconnects by itself and
// reconciles what changed, without a restart. Uses its own control plane, so the shared one
// stays up for the other files.
import { CoreV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlPlane } from "../harness/controlplane.ts";
import { createTestNamespace, grantOperatorNamespace } from "../harness/context.ts";
import { objects, readyIs } from "../harness/objects.ts";
import { startOperator, type OperatorProcess } from "../harness/operator-process.ts";

let plane: ControlPlane;
let operator: OperatorProcess;
let ns = "";

beforeAll(async () => {
  plane = await ControlPlane.start();
  ns = await createTestNamespace(plane.admin(), "restart");
  await grantOperatorNamespace(plane.admin(), ns);
  operator = await startOperator({
    kubeconfig: plane.info.operatorKubeconfig,
    args: [`--namespaces=${ns}`, "--leader-elect=false"],
  });
}, 120_000);

afterAll(async () => {
  await operator?.stop();
  await plane?.stop();
});

describe("API server restart", () => {
  it("reconnects and reconciles what changed", { timeout: 120_000 }, async () => {
    const k = objects(plane.admin(), ns);
    const core = plane.admin().makeApiClient(CoreV1Api);
    await k.create("emailauthenticatorstages", "relay", { connection: { credentialsSecretRef: { name: "creds" } } });
    await k.waitFor(
      "emailauthenticatorstages",
      "relay",
      readyIs("False", "SecretNotFound"),
      "stalled without its Secret",
    );

    await plane.stopApiServer();
    await new Promise((r) => setTimeout(r, 2000)); // the operator's watches fail and back off
    await plane.startApiServer();

    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: "creds" }, stringData: { username: "u", password: "p" } },
    });
    await k.create("emailauthenticatorstages", "after", {});
    await k.waitFor("emailauthenticatorstages", "relay", readyIs("True"), "Ready once the Secret appeared", 60_000);
    await k.waitFor(
      "emailauthenticatorstages",
      "after",
      readyIs("True"),
      "a stage created after the restart reconciled",
      60_000,
    );
    expect(operator.process.exitError()).toBeUndefined();
    expect(
      await operator.metric(
        'emailauth_watch_restarts_total{resource="emailauthenticatorstages.emailauth.dev@' + ns + '",reason="error"}',
      ),
    ).toBeGreaterThan(0);
  });
});
