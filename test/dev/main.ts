// `npm run dev`: the whole thing on an embedded default. Starts a real control plane and
// Mailpit, points the global SMTP settings at Mailpit, applies the CRDs and the examples,
// writes a sourceable env file and keeps running until Ctrl-C, then stops everything.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ControlPlane, OPERATOR_NAMESPACE } from "../harness/controlplane.ts";
import { grantOperatorNamespace } from "../harness/context.ts";
import { startOperator } from "../harness/operator-process.ts";
import { Mailpit } from "../harness/mailpit.ts";
import { createAll, readManifests } from "../harness/manifests.ts";
import { reapOrphans } from "../harness/leftovers.ts";
import { onTerminationSignals } from "../harness/processes.ts";
import { repoRoot, tool } from "../harness/paths.ts";
import { globalSettingsData } from "../../src/kinds/global-settings.ts";
import { parseConfig } from "../../src/config/config.ts";
import { serviceAccountToken } from "../harness/controlplane.ts";
import { startDemoApp } from "./demo-app.ts";
import { createTestPki } from "../harness/pki.ts";

const GLOBAL_SETTINGS_CONFIGMAP = "email-authenticator-global-settings";

const devDir = resolve(process.env.EAO_DEV_DIR ?? join(repoRoot, ".dev"));
const log = (message: string): void => console.log(`dev: ${message}`);

async function main(): Promise<void> {
  execFileSync("bash", [join(repoRoot, "tools", "build.sh")], { stdio: "inherit" });
  reapOrphans(log);
  rmSync(devDir, { recursive: true, force: true });
  mkdirSync(join(devDir, "controlplane"), { recursive: true });
  mkdirSync(join(devDir, "mailpit"), { recursive: true });

  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async (): Promise<void> => {
    log("stopping");
    for (const s of started.reverse()) await s.stop();
    rmSync(join(devDir, "env"), { force: true });
    log("stopped; nothing left running");
  };
  onTerminationSignals(stopAll);

  try {
    const plane = await ControlPlane.start({ dir: join(devDir, "controlplane"), progress: log });
    started.push(plane);
    const mailpit = await Mailpit.start({ dir: join(devDir, "mailpit") });
    started.push(mailpit);
    log(`Mailpit: SMTP on 127.0.0.1:${mailpit.smtpPort}, web UI and API on ${mailpit.httpUrl}`);

    const admin = plane.admin();
    // Checked against the schema the operator reads it with, so a typo fails here, not later.
    const globalSettings = {
      host: "127.0.0.1",
      port: String(mailpit.smtpPort),
      tlsMode: "None",
      timeout: "10",
      fromAddress: "no-reply@emailauth.localhost",
    };
    globalSettingsData.parse(globalSettings);
    await createAll(admin, [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: GLOBAL_SETTINGS_CONFIGMAP, namespace: OPERATOR_NAMESPACE },
        data: globalSettings,
      } as never,
    ]);
    const examples = join(repoRoot, "manifests", "examples");
    // No cert-manager here: the API's certificate is made below instead.
    for (const file of readdirSync(examples).sort())
      await createAll(
        admin,
        readManifests(join(examples, file)).filter((o) => !o.apiVersion?.startsWith("cert-manager.io/")),
      );
    log(`applied the CRDs and manifests/examples`);

    // The API serves TLS as it does in a cluster: a certificate from a throwaway CA, in the
    // Secret cert-manager would write. curl trusts the CA through CURL_CA_BUNDLE in .dev/env.
    mkdirSync(join(devDir, "pki"), { recursive: true });
    const pki = createTestPki(join(devDir, "pki"));
    await createAll(admin, [
      {
        apiVersion: "v1",
        kind: "Secret",
        type: "kubernetes.io/tls",
        metadata: { name: "email-authenticator-api-tls", namespace: OPERATOR_NAMESPACE },
        stringData: { "tls.crt": readFileSync(pki.certFile, "utf8"), "tls.key": readFileSync(pki.keyFile, "utf8") },
      } as never,
    ]);

    // The examples live in "default"; the operator watches it with its least-privilege identity.
    await grantOperatorNamespace(admin, "default");
    const operator = await startOperator({
      kubeconfig: plane.info.operatorKubeconfig,
      args: ["--namespaces=default", "--tls-secret=email-authenticator-api-tls"],
      logFile: join(devDir, "operator.log"),
    });
    started.push(operator);
    // The demo application runs flows as the example ServiceAccount sign-in-app.
    const { api } = parseConfig([], {}) as { api?: { tokenAudiences?: string[] } };
    const demo = await startDemoApp({
      operatorUrl: `https://127.0.0.1:${operator.httpPort}`,
      caFile: pki.caFile,
      appToken: await serviceAccountToken(admin, "default", "sign-in-app", undefined, api?.tokenAudiences ?? []),
      appUsername: "system:serviceaccount:default:sign-in-app",
      namespace: "default",
    });
    started.push(demo);
    log(
      `operator: running as ServiceAccount ${OPERATOR_NAMESPACE}/email-authenticator-operator, logs in ${join(devDir, "operator.log")}`,
    );

    const env = [
      `export KUBECONFIG=${plane.info.adminKubeconfig}`,
      `export MAILPIT_URL=${mailpit.httpUrl}`,
      `export SMTP_ADDRESS=127.0.0.1:${mailpit.smtpPort}`,
      `export OPERATOR_URL=https://127.0.0.1:${operator.httpPort}`,
      `export CURL_CA_BUNDLE=${pki.caFile}`,
      `export OPERATOR_HEALTH_URL=${operator.healthUrl}`,
      `export PATH=${join(repoRoot, "tools", "bin")}:$PATH`,
    ];
    writeFileSync(join(devDir, "env"), `${env.join("\n")}\n`);
    console.log(`
  kube-apiserver  ${plane.info.server}   (etcd and logs in ${plane.info.dir})
  Mailpit         ${mailpit.httpUrl}   (SMTP 127.0.0.1:${mailpit.smtpPort})
  demo app        ${demo.url}   ("sign in with an email code": hosted pages, signed result)
  operator        ${operator.healthUrl}/metrics   (HTTP API https://127.0.0.1:${operator.httpPort}, CA ${pki.caFile})

  In another shell:
    source ${join(devDir, "env")}
    kubectl get emailauth -A          # stages, bindings and devices (category "emailauth")
    kubectl get eas -o wide
    bash test/dev/walkthrough.sh      # a whole flow with curl: start, read the code from Mailpit, verify

  The walk-through, step by step:
${readFileSync(join(repoRoot, "test", "dev", "walkthrough.sh"), "utf8")
  .split("\n")
  .slice(3)
  .map((l) => `    ${l}`)
  .join("\n")}
  In a browser: open the demo app ${demo.url}, type a user id, follow the sign-in pages,
  read the code in Mailpit's inbox ${mailpit.httpUrl}, and see the verified result's claims.
  The pages are served over TLS with a certificate from a throwaway CA (${pki.caFile}): let
  the browser accept it once, or import the CA.

  Ctrl-C stops everything.
`);
    execFileSync(tool("kubectl"), ["--kubeconfig", plane.info.adminKubeconfig, "get", "emailauth", "-A"], {
      stdio: "inherit",
    });
  } catch (e) {
    await stopAll();
    throw e;
  }
  // Stay alive until a signal arrives; the handler stops everything and exits.
  setInterval(() => {}, 1 << 30);
}

await main();
