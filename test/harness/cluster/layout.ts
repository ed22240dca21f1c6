// Where the single-node cluster lives and what it listens on. The ports are fixed (the kubelet's,
// the controller manager's and the scheduler's are well known), so one such node runs per
// machine; everything it writes stays under RUN_DIR, so a crashed run is cleaned from there.
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { toolsBin } from "../paths.ts";

export const RUN_DIR = process.env.EAO_CLUSTER_DIR ?? "/var/lib/eao-cluster";
export const NODE_NAME = "node-1";
export const API_PORT = 6443;
export const ETCD_CLIENT_PORT = 23790;
export const ETCD_PEER_PORT = 23800;
export const SERVICE_CIDR = "10.0.0.0/24";
export const POD_CIDR = "10.244.0.0/16";
export const CLUSTER_DNS_IP = "10.0.0.10";
export const BRIDGE = "eaobr0";
export const CNI_NETWORK = "eao-pods";
export const CNI_BIN_DIR = "/usr/lib/cni";

export const at = (...parts: string[]): string => join(RUN_DIR, ...parts);
export const paths = {
  pki: at("pki"),
  pids: at("pids"),
  logs: at("logs"),
  containerdSocket: at("run", "containerd", "containerd.sock"),
  adminKubeconfig: at("admin.kubeconfig"),
  apiserverCert: at("pki", "apiserver.crt"),
  nftBefore: at("nft-tables.before"),
};

/** Binaries of the node, built by tools/build.sh (groups controlplane, node, containerd, coredns, kstatus, helm). */
export const NODE_TOOLS = [
  "etcd",
  "kube-apiserver",
  "kubectl",
  "kubelet",
  "kube-controller-manager",
  "kube-scheduler",
  "kube-proxy",
  "containerd",
  "ctr",
  "containerd-shim-runc-v2",
  "kstatus",
  "helm",
] as const;
export const nodeTool = (name: (typeof NODE_TOOLS)[number]): string => join(toolsBin, name);

/** The first non-internal IPv4 address: what Pods and the API server's endpoint use. */
export function nodeIp(): string {
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    if (name === BRIDGE || name.startsWith("veth") || name.startsWith("cni")) continue;
    const v4 = addresses?.find((a) => a.family === "IPv4" && !a.internal);
    if (v4) return v4.address;
  }
  throw new Error("no non-loopback IPv4 address for the node");
}
