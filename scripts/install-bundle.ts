// manifests/install/all.yaml: what `kubectl apply -f` users install, rendered from the Helm chart
// with its default values (plus the namespace, which Helm leaves to --create-namespace), so the
// two cannot drift. Helm's own bookkeeping (chart and managed-by labels, the keep policy, hooks)
// is dropped: kubectl never deletes CRDs by itself.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dump, loadAll } from "js-yaml";

export const BUNDLE_PATH = "manifests/install/all.yaml";
export const RELEASE = "email-authenticator-operator";
export const NAMESPACE = "email-authenticator-system";

interface Manifest {
  kind: string;
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { template?: { metadata?: { labels?: Record<string, string> } } };
}

function relabel(labels: Record<string, string> | undefined): void {
  if (!labels) return;
  delete labels["helm.sh/chart"];
  if (labels["app.kubernetes.io/managed-by"] === "Helm") labels["app.kubernetes.io/managed-by"] = "kubectl";
}

function withoutHelm(object: Manifest): Manifest {
  const { labels, annotations } = object.metadata;
  relabel(labels);
  relabel(object.spec?.template?.metadata?.labels); // a Deployment's Pods carry the same labels
  if (annotations) {
    delete annotations["helm.sh/resource-policy"];
    if (Object.keys(annotations).length === 0) delete object.metadata.annotations;
  }
  return object;
}

export function installBundle(repoRoot: string): string {
  const helm = join(repoRoot, "tools", "bin", "helm");
  const chart = join(repoRoot, "charts", "email-authenticator-operator");
  const result = spawnSync(helm, ["template", RELEASE, chart, "--namespace", NAMESPACE], {
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "",
      HOME: "/nonexistent",
      HELM_CACHE_HOME: "/nonexistent",
      HELM_CONFIG_HOME: "/nonexistent",
    },
  });
  if (result.error) throw new Error(`${helm}: ${result.error.message} (run npm run tools)`);
  if (result.status !== 0) throw new Error(`helm template failed:\n${result.stderr}`);
  const namespace = loadAll(readFileSync(join(repoRoot, "manifests", "install", "namespace.yaml"), "utf8"));
  // Helm hooks (the pre-delete Job that stops the operator) only make sense to Helm: kubectl would
  // run them at once.
  const rendered = loadAll(result.stdout)
    .filter((d): d is Manifest => d !== null && typeof d === "object")
    .filter((o) => !o.metadata.annotations?.["helm.sh/hook"]);
  // CRDs first, then the namespace and what lives in it, in Helm's install order otherwise.
  const crds = rendered.filter((o) => o.kind === "CustomResourceDefinition");
  const rest = rendered.filter((o) => o.kind !== "CustomResourceDefinition");
  const documents = [...crds, ...namespace, ...rest].map((o) =>
    dump(withoutHelm(o as Manifest), { lineWidth: 120, noRefs: true }),
  );
  return [
    "# Generated from charts/email-authenticator-operator (default values, release",
    `# ${RELEASE} in ${NAMESPACE}) by \`npm run generate\`. Do not edit; see docs/install.md.`,
    `---\n${documents.join("---\n")}`,
  ].join("\n");
}
