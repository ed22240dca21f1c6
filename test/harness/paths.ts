// Where the repository and the Go-built tools live, independent of the caller's cwd.
import { fileURLToPath } from "node:url";
import { join } from "node:path";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const toolsBin = join(repoRoot, "tools", "bin");
export const tool = (name: "etcd" | "kube-apiserver" | "kubectl" | "mailpit"): string => join(toolsBin, name);
export const crdsDir = join(repoRoot, "crds");
