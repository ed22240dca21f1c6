// Runs the Helm binary built by tools/build.sh against charts/email-authenticator-operator.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { repoRoot, toolsBin } from "./paths.ts";

export const helmBin = join(toolsBin, "helm");
export const chartDir = join(repoRoot, "charts", "email-authenticator-operator");
/** The release name whose resource names are those of manifests/install. */
export const DEFAULT_RELEASE = "email-authenticator-operator";

export interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function helm(args: readonly string[]): HelmResult {
  if (!existsSync(helmBin))
    throw new Error(`${helmBin} is missing: run \`bash tools/build.sh\` (or \`npm run tools\`) first`);
  const result = spawnSync(helmBin, args, {
    encoding: "utf8",
    // No user configuration, caches or plugins leak in from the machine.
    env: {
      PATH: process.env.PATH ?? "",
      HOME: tmpdir(),
      HELM_CONFIG_HOME: join(tmpdir(), "helm-unused"),
      HELM_CACHE_HOME: join(tmpdir(), "helm-unused"),
    },
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** Merged over values.yaml, as with `helm template -f`. */
  values?: Record<string, unknown>;
}

/** `helm template` with the given values; the result of a failed render (schema, `required`) included. */
export function template(options: RenderOptions = {}): HelmResult {
  const dir = mkdtempSync(join(tmpdir(), "chart-values-"));
  try {
    const valuesFile = join(dir, "values.json"); // JSON is YAML
    writeFileSync(valuesFile, JSON.stringify(options.values ?? {}));
    return helm([
      "template",
      options.release ?? DEFAULT_RELEASE,
      chartDir,
      "--namespace",
      options.namespace ?? "email-authenticator-system",
      "--values",
      valuesFile,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface RenderedObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** Renders and parses; throws with Helm's own message when the chart refuses the values. */
export function render(options: RenderOptions = {}): { text: string; objects: RenderedObject[] } {
  const result = template(options);
  if (result.status !== 0) throw new Error(`helm template failed (${result.status}):\n${result.stderr}`);
  const objects = loadAll(result.stdout).filter((d): d is RenderedObject => d !== null && typeof d === "object");
  return { text: result.stdout, objects };
}
