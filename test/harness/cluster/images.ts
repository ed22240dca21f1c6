// The images the node runs, built by images/build.sh without a registry and imported into
// containerd (nothing is ever pulled: Pods use imagePullPolicy Never).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../paths.ts";

export const PAUSE_IMAGE = "localhost/pause:3.10.2";
export const OPERATOR_IMAGE = "localhost/emailauth/operator:dev";
export const MAILPIT_IMAGE = "localhost/emailauth/mailpit:v1.33.1";
export const COREDNS_IMAGE = "localhost/emailauth/coredns:v1.15.0";
export const IMAGES_DIR = join(repoRoot, ".cache", "images");
export const IMAGE_ARCHIVES = ["pause", "coredns", "mailpit", "operator"] as const;

/** Builds what is missing or stale (a no-op when current), printing progress. */
export function buildImages(): void {
  execFileSync("bash", [join(repoRoot, "images", "build.sh"), ...IMAGE_ARCHIVES], { stdio: "inherit" });
}

/** Image repository and tag as the chart takes them. */
export function splitImage(ref: string): { repository: string; tag: string } {
  const i = ref.lastIndexOf(":");
  return { repository: ref.slice(0, i), tag: ref.slice(i + 1) };
}
