// By hand: `node test/harness/cluster/cli.ts up` starts the node and keeps it until Ctrl-C;
// `… down` cleans up a node left by a run that crashed.
import { execFileSync } from "node:child_process";
import { onTerminationSignals } from "../processes.ts";
import { repoRoot } from "../paths.ts";
import { Cluster, teardown } from "./cluster.ts";
import { buildImages } from "./images.ts";

const log = (m: string) => console.log(`cluster: ${m}`);
const command = process.argv[2];
if (command === "down") {
  teardown(log);
  log("nothing left behind");
} else if (command === "up") {
  execFileSync("bash", ["tools/build.sh", "all"], { cwd: repoRoot, stdio: "inherit" });
  buildImages();
  const cluster = await Cluster.start({ progress: log });
  log(`up: export KUBECONFIG=${cluster.info.adminKubeconfig}; Ctrl-C stops it`);
  onTerminationSignals(() => cluster.stop());
  setInterval(() => {}, 1 << 30);
} else {
  console.error("usage: node test/harness/cluster/cli.ts up|down");
  process.exit(2);
}
