// A real single-node Kubernetes cluster from the Go-built binaries in tools/bin and Debian's
// runc, CNI plugins and iptables: etcd and kube-apiserver reachable from Pods, the controller
// manager and scheduler, containerd with the images imported, kubelet, kube-proxy (iptables) and
// CoreDNS. Needs root. Teardown leaves no process, mount, link, iptables rule or cgroup behind;
// a run that crashed is cleaned up at the next start. The how and why: docs/install.md.
import { execFile, execFileSync, type ExecFileSyncOptions } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { Resolver } from "node:dns/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Managed, ProcessGroup } from "../processes.ts";
import { waitFor } from "../wait.ts";
import { API_SERVER, kubeconfigOf, writeIdentities, writeNodeConfigs } from "./config-files.ts";
import { COREDNS_IMAGE, IMAGE_ARCHIVES, IMAGES_DIR } from "./images.ts";
import {
  API_PORT,
  at,
  CLUSTER_DNS_IP,
  ETCD_CLIENT_PORT,
  ETCD_PEER_PORT,
  NODE_NAME,
  nodeIp,
  nodeTool,
  paths,
  POD_CIDR,
  RUN_DIR,
  SERVICE_CIDR,
} from "./layout.ts";
import { missingPrerequisites } from "./prerequisites.ts";

/** Serialisable: what a test file needs to reach the cluster. */
export interface ClusterInfo {
  dir: string;
  server: string;
  nodeIp: string;
  adminKubeconfig: string;
}

const TEARDOWN = join(import.meta.dirname, "teardown.sh");

/** Runs the teardown script on a run dir (also usable after a crash). */
export function teardown(log: (m: string) => void = () => {}): void {
  if (!existsSync(RUN_DIR)) return;
  const out = execFileSync("bash", [TEARDOWN, RUN_DIR], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  for (const line of out.split("\n").filter(Boolean)) log(line);
}

export class Cluster {
  readonly info: ClusterInfo;
  #group = new ProcessGroup();
  #managed = new Map<string, Managed>();
  #log: (m: string) => void;

  private constructor(info: ClusterInfo, log: (m: string) => void) {
    this.info = info;
    this.#log = log;
  }

  /** `dns: false` leaves CoreDNS out (and its image), for debugging the node itself. */
  static async start(options: { progress?: (m: string) => void; dns?: boolean } = {}): Promise<Cluster> {
    const log = options.progress ?? (() => {});
    const missing = missingPrerequisites();
    if (missing.length) throw new Error(`cannot start the node:\n  - ${missing.join("\n  - ")}`);
    teardown((m) => log(`cleaning an earlier run: ${m}`));
    const ip = nodeIp();
    const cluster = new Cluster(
      { dir: RUN_DIR, server: API_SERVER(ip), nodeIp: ip, adminKubeconfig: paths.adminKubeconfig },
      log,
    );
    const t0 = Date.now();
    const step = (m: string) => log(`${m} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    try {
      for (const d of [paths.pids, paths.logs]) mkdirSync(d, { recursive: true });
      writeFileSync(paths.nftBefore, execFileSync("nft", ["list", "tables"], { encoding: "utf8" }));
      writeIdentities(cluster.info.server);
      writeNodeConfigs(ip);
      // Independent until the kubelet starts: containerd imports the images while the API server starts.
      await Promise.all([
        cluster.#startControlPlane().then(() => step(`control plane ready at ${cluster.info.server}`)),
        cluster.#startContainerd(options.dns ?? true).then(() => step("containerd ready, images imported")),
      ]);
      await cluster.#startNode();
      step(`node ${NODE_NAME} Ready`);
      if (options.dns ?? true) {
        await cluster.#startDns();
        step(`cluster DNS answers on ${CLUSTER_DNS_IP}`);
      }
      return cluster;
    } catch (e) {
      await cluster.stop();
      throw e;
    }
  }

  /** kubectl as the cluster admin; returns stdout. */
  kubectl(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): string {
    return execFileSync(nodeTool("kubectl"), ["--kubeconfig", paths.adminKubeconfig, ...args], {
      encoding: "utf8",
      input: options.input,
      timeout: options.timeoutMs ?? 120_000,
      stdio: ["pipe", "pipe", "pipe"],
    } satisfies ExecFileSyncOptions);
  }

  async stop(): Promise<void> {
    // Graceful first where it matters (the kubelet and kube-proxy); the script ends the rest.
    await Promise.all(
      ["kube-proxy", "kubelet", "kube-scheduler", "kube-controller-manager"].map((name) => {
        const p = this.#managed.get(name);
        return p ? this.#group.stop(p, 3000) : Promise.resolve();
      }),
    );
    teardown(this.#log);
    this.#group.dispose();
  }

  #start(name: string, bin: Parameters<typeof nodeTool>[0], args: string[], env?: NodeJS.ProcessEnv): Managed {
    const p = this.#group.start(name, nodeTool(bin), args, join(paths.logs, `${name}.log`), env);
    writeFileSync(join(paths.pids, `${name}.pid`), String(p.pid));
    this.#managed.set(name, p);
    return p;
  }

  async #startControlPlane(): Promise<void> {
    const pki = (f: string) => join(paths.pki, f);
    const etcdUrl = `http://127.0.0.1:${ETCD_CLIENT_PORT}`;
    const peerUrl = `http://127.0.0.1:${ETCD_PEER_PORT}`;
    const etcd = this.#start("etcd", "etcd", [
      `--data-dir=${at("etcd")}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      "--unsafe-no-fsync",
      "--log-level=warn",
    ]);
    // The node IP, not loopback: the `kubernetes` Service gets it as its endpoint, so Pods reach
    // the API server through 10.0.0.1 (its self-signed certificate names both).
    const apiserver = this.#start("kube-apiserver", "kube-apiserver", [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${this.info.nodeIp}`,
      `--advertise-address=${this.info.nodeIp}`,
      `--secure-port=${API_PORT}`,
      `--cert-dir=${paths.pki}`,
      "--service-account-issuer=https://kubernetes.default.svc",
      `--service-account-key-file=${pki("sa.key")}`,
      `--service-account-signing-key-file=${pki("sa.key")}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--authorization-mode=Node,RBAC",
      "--enable-admission-plugins=NodeRestriction",
      `--token-auth-file=${pki("tokens.csv")}`,
      `--kubelet-client-certificate=${pki("kubelet-client.crt")}`,
      `--kubelet-client-key=${pki("kubelet-client.key")}`,
      "--kubelet-preferred-address-types=InternalIP,Hostname",
    ]);
    await waitFor(
      () => {
        try {
          return this.kubectl(["get", "--raw", "/readyz"], { timeoutMs: 5000 }).trim() === "ok" ? true : undefined;
        } catch {
          return undefined;
        }
      },
      {
        what: "kube-apiserver /readyz",
        timeoutMs: 90_000,
        intervalMs: 250,
        failFast: () => etcd.exitError() ?? apiserver.exitError(),
      },
    );
    // The bootstrap RBAC lets system:kubelet-api-admin use the kubelet API (exec, logs, port-forward).
    this.kubectl([
      "create",
      "clusterrolebinding",
      "kube-apiserver-kubelet-client",
      "--clusterrole=system:kubelet-api-admin",
      "--user=kube-apiserver-kubelet-client",
    ]);
    const auth = (identity: "controller-manager" | "scheduler") =>
      ["kubeconfig", "authentication-kubeconfig", "authorization-kubeconfig"].map(
        (f) => `--${f}=${kubeconfigOf(identity)}`,
      );
    this.#start("kube-controller-manager", "kube-controller-manager", [
      ...auth("controller-manager"),
      "--bind-address=127.0.0.1",
      "--leader-elect=false",
      "--controllers=*",
      "--use-service-account-credentials=true",
      `--service-account-private-key-file=${pki("sa.key")}`,
      `--root-ca-file=${paths.apiserverCert}`,
      `--cluster-signing-cert-file=${pki("ca.crt")}`,
      `--cluster-signing-key-file=${pki("ca.key")}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      `--cluster-cidr=${POD_CIDR}`,
    ]);
    this.#start("kube-scheduler", "kube-scheduler", [
      ...auth("scheduler"),
      "--bind-address=127.0.0.1",
      "--leader-elect=false",
    ]);
  }

  async #startContainerd(dns: boolean): Promise<void> {
    // The runc shim must be on PATH; containerd finds it there.
    const env = { ...process.env, PATH: `${join(nodeTool("containerd"), "..")}:${process.env.PATH ?? ""}` };
    const containerd = this.#start("containerd", "containerd", ["--config", at("containerd.toml")], env);
    await waitFor(() => (existsSync(paths.containerdSocket) ? true : undefined), {
      what: "containerd's socket",
      timeoutMs: 30_000,
      failFast: () => containerd.exitError(),
    });
    // Not blocking the event loop: the control plane's readiness is polled meanwhile.
    for (const name of IMAGE_ARCHIVES.filter((n) => dns || n !== "coredns")) {
      await promisify(execFile)(nodeTool("ctr"), [
        "--address",
        paths.containerdSocket,
        "-n",
        "k8s.io",
        "images",
        "import",
        "--local",
        join(IMAGES_DIR, `${name}.tar`),
      ]);
    }
  }

  async #startNode(): Promise<void> {
    const env = { ...process.env, PATH: `${join(nodeTool("containerd"), "..")}:${process.env.PATH ?? ""}` };
    const kubelet = this.#start(
      "kubelet",
      "kubelet",
      [
        `--config=${at("kubelet.yaml")}`,
        `--kubeconfig=${kubeconfigOf("node")}`,
        `--root-dir=${at("kubelet", "root")}`,
        `--cert-dir=${at("kubelet", "pki")}`,
        `--hostname-override=${NODE_NAME}`,
        `--node-ip=${this.info.nodeIp}`,
        "-v=1",
      ],
      env,
    );
    const proxy = this.#start("kube-proxy", "kube-proxy", [`--config=${at("kube-proxy.yaml")}`], env);
    await waitFor(
      () => {
        try {
          const status = this.kubectl([
            "get",
            "node",
            NODE_NAME,
            "-o",
            'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
          ]);
          return status === "True" ? true : undefined;
        } catch {
          return undefined;
        }
      },
      {
        what: `node ${NODE_NAME} Ready`,
        timeoutMs: 60_000,
        intervalMs: 250,
        failFast: () => kubelet.exitError() ?? proxy.exitError(),
      },
    );
  }

  async #startDns(): Promise<void> {
    // A Ready node keeps its not-ready taint until the controller manager lifts it, moments later.
    // A Pod that meets the taint waits in the scheduler's unschedulable queue for up to 5 minutes
    // (seen here: CoreDNS Pending, "untolerated taint"), so the first Pod waits for a clean node.
    await waitFor(
      () =>
        this.kubectl(["get", "node", NODE_NAME, "-o", "jsonpath={.spec.taints}"]).trim() === "" ? true : undefined,
      { what: `node ${NODE_NAME} without taints`, timeoutMs: 60_000, intervalMs: 250 },
    );
    const manifest = readFileSync(join(import.meta.dirname, "coredns.yaml"), "utf8")
      .replace("COREDNS_IMAGE", COREDNS_IMAGE)
      .replace("CLUSTER_DNS_IP", CLUSTER_DNS_IP);
    this.kubectl(["apply", "-f", "-"], { input: manifest });
    try {
      // Usually seconds; on a busy 2-core machine the controller manager's deployment controller
      // (its own ServiceAccount's credentials first) has been seen to take over 90 s to act.
      this.kubectl(["-n", "kube-system", "rollout", "status", "deployment/coredns", "--timeout=180s"], {
        timeoutMs: 190_000,
      });
    } catch (e) {
      const state = this.kubectl(["-n", "kube-system", "get", "deployments,replicasets,pods,events", "-o", "wide"]);
      throw new Error(`CoreDNS did not roll out; kube-system now:\n${state}`, { cause: e });
    }
    // Through the Service (kube-proxy's rules lag the rollout a little), as a Pod would ask.
    const resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([CLUSTER_DNS_IP]);
    await waitFor(
      async () => ((await resolver.resolve4("kubernetes.default.svc.cluster.local")).length ? true : undefined),
      {
        what: "CoreDNS to answer through the kube-dns Service",
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
  }
}
