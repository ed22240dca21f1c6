// `npm run dev:cluster`: the stack of `npm run dev`, but on a real node: the operator (two
// replicas, from the chart and the image built here) and Mailpit run in Pods. Prints the same
// walk-through; Ctrl-C stops everything and leaves nothing behind. Needs root (see README).
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { Cluster } from "../harness/cluster/cluster.ts";
import { buildImages } from "../harness/cluster/images.ts";
import { missingPrerequisites } from "../harness/cluster/prerequisites.ts";
import { onTerminationSignals } from "../harness/processes.ts";
import { repoRoot } from "../harness/paths.ts";
import { installDevStack } from "./cluster-stack.ts";
import { walkthroughSteps } from "./walkthrough-text.ts";

const devDir = resolve(process.env.EAO_DEV_DIR ?? join(repoRoot, ".dev"));
const log = (message: string): void => console.log(`dev:cluster: ${message}`);

async function main(): Promise<void> {
  if (process.getuid?.() === 0)
    execFileSync("bash", [join(repoRoot, "scripts", "install-node-deps.sh")], { stdio: "inherit" });
  execFileSync("bash", [join(repoRoot, "tools", "build.sh"), "all"], { stdio: "inherit" });
  const missing = missingPrerequisites();
  if (missing.length) throw new Error(`the node cannot run here:\n  - ${missing.join("\n  - ")}`);
  buildImages();
  rmSync(devDir, { recursive: true, force: true });
  mkdirSync(devDir, { recursive: true });

  const cluster = await Cluster.start({ progress: (m) => log(`node: ${m}`) });
  let stopForward = () => {};
  onTerminationSignals(async () => {
    log("stopping");
    stopForward();
    await cluster.stop();
    rmSync(join(devDir, "env"), { force: true });
    log("stopped; nothing left running");
  });
  const kubectl = (args: readonly string[], input?: string) => cluster.kubectl(args, { input });
  const stack = await installDevStack(kubectl, devDir, log);
  stopForward = () => stack.stop();
  console.log(`
  kube-apiserver  ${cluster.info.server}   (node ${cluster.info.nodeIp}; state and logs in ${cluster.info.dir})
  Mailpit         ${stack.env.MAILPIT_URL}   (SMTP ${stack.env.SMTP_ADDRESS}, a Pod in namespace mail)
  operator        ${stack.env.OPERATOR_HEALTH_URL}/metrics   (HTTP API ${stack.env.OPERATOR_URL}, a port-forward to its Service; CA ${stack.env.CURL_CA_BUNDLE})

  In another shell:
    source ${stack.envFile}
    kubectl get emailauth -A          # stages, bindings and devices (category "emailauth")
    kubectl get eas -o wide
    kubectl -n email-authenticator-system get pods
    bash test/dev/walkthrough.sh      # a whole flow with curl: start, read the code from Mailpit, verify

  The walk-through, step by step:
${walkthroughSteps()}
  Ctrl-C stops everything.
`);
  console.log(cluster.kubectl(["get", "emailauth", "-A"]));
  setInterval(() => {}, 1 << 30);
}

await main();
