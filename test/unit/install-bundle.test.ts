// manifests/install/all.yaml is rendered from the chart; this fails when either is edited alone.
// Fix by running `npm run generate`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadAll } from "js-yaml";
import { describe, expect, it } from "vitest";
import { BUNDLE_PATH, installBundle } from "../../scripts/install-bundle.ts";
import { repoRoot } from "../harness/paths.ts";

describe(BUNDLE_PATH, () => {
  const expected = installBundle(repoRoot);

  it("is what the chart renders with its default values", () => {
    expect(readFileSync(join(repoRoot, BUNDLE_PATH), "utf8"), "run `npm run generate`").toBe(expected);
  });

  it("holds the CRDs, the restricted namespace, RBAC, the Deployment and the Service, and nothing of Helm", () => {
    const objects = loadAll(expected) as {
      kind: string;
      metadata: { name: string; labels?: Record<string, string> };
    }[];
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of [
      "CustomResourceDefinition",
      "Namespace",
      "ServiceAccount",
      "ClusterRole",
      "Role",
      "Deployment",
      "Service",
    ])
      expect(kinds).toContain(kind);
    const ns = objects.find((o) => o.kind === "Namespace");
    expect(ns?.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    expect(expected).not.toMatch(/helm\.sh\/|managed-by: Helm/);
    expect(kinds).not.toContain("Job"); // Helm's pre-delete hook would run at once under kubectl
  });
});
