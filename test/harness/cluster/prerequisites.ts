// What the node needs from the machine, with the exact Debian packages that provide it
// (scripts/install-node-deps.sh installs them when run as root).
import { accessSync, constants } from "node:fs";
import { NODE_TOOLS, nodeTool } from "./layout.ts";

/** Debian package → a file it installs. */
export const DEBIAN_PACKAGES: Record<string, string> = {
  runc: "/usr/sbin/runc",
  "containernetworking-plugins": "/usr/lib/cni/bridge",
  iptables: "/usr/sbin/iptables",
  nftables: "/usr/sbin/nft",
  buildah: "/usr/bin/buildah",
  gcc: "/usr/bin/gcc",
  "libc6-dev": "/usr/lib/x86_64-linux-gnu/libc.a",
  openssl: "/usr/bin/openssl",
};

const usable = (path: string, mode = constants.X_OK): boolean => {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
};

/** Empty when the node can start; otherwise one line per missing piece. */
export function missingPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root: the kubelet, containerd and kube-proxy need it (run as root)");
  if (process.platform !== "linux") missing.push(`Linux (this is ${process.platform})`);
  const packages = Object.entries(DEBIAN_PACKAGES)
    .filter(([, file]) => !usable(file, constants.R_OK))
    .map(([name]) => name);
  if (packages.length)
    missing.push(
      `Debian packages ${packages.join(" ")}: apt-get install ${packages.join(" ")} (or bash scripts/install-node-deps.sh)`,
    );
  const tools = NODE_TOOLS.filter((t) => !usable(nodeTool(t)));
  if (tools.length) missing.push(`tools/bin/{${tools.join(",")}}: bash tools/build.sh`);
  return missing;
}
