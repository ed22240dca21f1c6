// The node's configuration files: identities (static tokens, one kubeconfig each), a small CA
// for the API server's client certificate towards the kubelet, and the containerd, CNI, kubelet
// and kube-proxy configurations (see docs/install.md and the comments for why each setting).
import { execFileSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeKubeconfig } from "../kubeconfig.ts";
import {
  API_PORT,
  at,
  BRIDGE,
  CLUSTER_DNS_IP,
  CNI_BIN_DIR,
  CNI_NETWORK,
  NODE_NAME,
  paths,
  POD_CIDR,
  RUN_DIR,
} from "./layout.ts";
import { PAUSE_IMAGE } from "./images.ts";

export type Identity = "admin" | "node" | "controller-manager" | "scheduler" | "proxy";

/** user, groups: the static identities; bootstrap RBAC already binds the system ones. */
const IDENTITIES: Record<Identity, [string, string]> = {
  admin: ["admin", "system:masters"],
  node: [`system:node:${NODE_NAME}`, "system:nodes"],
  "controller-manager": ["system:kube-controller-manager", ""],
  scheduler: ["system:kube-scheduler", ""],
  proxy: ["system:kube-proxy", ""],
};

export const kubeconfigOf = (identity: Identity): string => at(`${identity}.kubeconfig`);

function openssl(...args: string[]): void {
  execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
}

export function writeIdentities(server: string): void {
  mkdirSync(paths.pki, { recursive: true });
  const pki = (f: string) => join(paths.pki, f);
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  writeFileSync(pki("sa.key"), privateKey.export({ type: "sec1", format: "pem" }), { mode: 0o600 });

  // The kubelet trusts this CA for client certificates; the API server presents one signed by it.
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...ec,
    "-days",
    "7",
    "-subj",
    "/CN=eao-node-ca",
    "-keyout",
    pki("ca.key"),
    "-out",
    pki("ca.crt"),
  );
  openssl(
    "req",
    ...ec,
    "-subj",
    "/CN=kube-apiserver-kubelet-client/O=kubelet-api-admins",
    "-keyout",
    pki("kubelet-client.key"),
    "-out",
    pki("kubelet-client.csr"),
  );
  openssl(
    "x509",
    "-req",
    "-in",
    pki("kubelet-client.csr"),
    "-CA",
    pki("ca.crt"),
    "-CAkey",
    pki("ca.key"),
    "-CAcreateserial",
    "-days",
    "7",
    "-out",
    pki("kubelet-client.crt"),
  );

  const lines: string[] = [];
  for (const [identity, [user, groups]] of Object.entries(IDENTITIES) as [Identity, [string, string]][]) {
    const token = randomBytes(24).toString("hex");
    lines.push(`${token},${user},${user}-uid,"${groups}"`);
    writeKubeconfig(kubeconfigOf(identity), { server, caFile: paths.apiserverCert }, user, token);
  }
  writeFileSync(pki("tokens.csv"), `${lines.join("\n")}\n`, { mode: 0o600 });
}

export function writeNodeConfigs(nodeIp: string): void {
  const containerd = at("run", "containerd");
  mkdirSync(join(containerd), { recursive: true });
  mkdirSync(at("cni", "net.d"), { recursive: true });
  mkdirSync(at("kubelet", "root"), { recursive: true });

  // restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so lowering oom_score_adj (as CRI
  // asks for every sandbox) fails; clamping to containerd's own value makes sandboxes start.
  writeFileSync(
    at("containerd.toml"),
    `version = 3
root = "${containerd}/root"
state = "${containerd}/state"
[grpc]
  address = "${paths.containerdSocket}"
[ttrpc]
  address = "${paths.containerdSocket}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins]
  [plugins.'io.containerd.internal.v1.opt']
    path = "${containerd}/opt"
  [plugins.'io.containerd.nri.v1.nri']
    disable = true
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = "overlayfs"
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = "${PAUSE_IMAGE}"
  [plugins.'io.containerd.cri.v1.runtime']
    restrict_oom_score_adj = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = "runc"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = "/usr/bin/runc"
          Root = "${containerd}/runc"
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ["${CNI_BIN_DIR}"]
      conf_dir = "${at("cni", "net.d")}"
      max_conf_num = 1
  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
`,
  );

  writeFileSync(
    at("cni", "net.d", "10-bridge.conflist"),
    JSON.stringify(
      {
        cniVersion: "1.0.0",
        name: CNI_NETWORK,
        plugins: [
          {
            type: "bridge",
            bridge: BRIDGE,
            isGateway: true,
            ipMasq: true,
            hairpinMode: true,
            ipam: {
              type: "host-local",
              ranges: [[{ subnet: POD_CIDR }]],
              routes: [{ dst: "0.0.0.0/0" }],
              dataDir: at("cni", "ipam"),
            },
          },
          { type: "portmap", capabilities: { portMappings: true } },
        ],
      },
      null,
      2,
    ),
  );

  // failCgroupV1: false is required on these cgroup v1 hosts; the image GC thresholds keep the
  // imported images, which no registry could give back.
  writeFileSync(
    at("kubelet.yaml"),
    `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://${paths.containerdSocket}
imageServiceEndpoint: unix://${paths.containerdSocket}
staticPodPath: ""
address: ${nodeIp}
port: 10250
healthzBindAddress: 127.0.0.1
healthzPort: 10248
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${join(paths.pki, "ca.crt")}}
authorization: {mode: Webhook}
clusterDomain: cluster.local
clusterDNS: [${CLUSTER_DNS_IP}]
resolvConf: /etc/resolv.conf
registerNode: true
serializeImagePulls: false
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
podPidsLimit: 1024
shutdownGracePeriod: 0s
`,
  );

  // conntrack values of 0 leave the host's sysctls alone (root here may not set them).
  writeFileSync(
    at("kube-proxy.yaml"),
    `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: ${kubeconfigOf("proxy")}}
hostnameOverride: ${NODE_NAME}
clusterCIDR: ${POD_CIDR}
metricsBindAddress: 127.0.0.1:10249
healthzBindAddress: 127.0.0.1:10256
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
`,
  );
}

export const API_SERVER = (nodeIp: string): string => `https://${nodeIp}:${API_PORT}`;
export { RUN_DIR };
