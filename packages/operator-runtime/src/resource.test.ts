import { describe, expect, it } from "vitest";
import { collectionPath, resourceName } from "./resource.ts";

describe("collectionPath", () => {
  it("builds core, custom, namespaced and cluster-wide paths", () => {
    expect(collectionPath({ group: "", version: "v1", plural: "configmaps", namespace: "ns" })).toBe(
      "/api/v1/namespaces/ns/configmaps",
    );
    expect(collectionPath({ group: "", version: "v1", plural: "configmaps" })).toBe("/api/v1/configmaps");
    expect(collectionPath({ group: "emailauth.dev", version: "v1alpha1", plural: "flowbindings" })).toBe(
      "/apis/emailauth.dev/v1alpha1/flowbindings",
    );
    expect(
      collectionPath({ group: "coordination.k8s.io", version: "v1", plural: "leases", namespace: "kube-system" }),
    ).toBe("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases");
  });

  it("refuses segments that would change the path", () => {
    expect(() => collectionPath({ group: "", version: "v1", plural: "configmaps", namespace: "../secrets" })).toThrow(
      /namespace/,
    );
    expect(() => collectionPath({ group: "", version: "v1", plural: "config maps" })).toThrow(/plural/);
    expect(() => collectionPath({ group: "a/b", version: "v1", plural: "x" })).toThrow(/group/);
    expect(() => collectionPath({ group: "", version: "", plural: "x" })).toThrow(/version/);
  });
});

describe("resourceName", () => {
  it("names the resource for logs and metrics", () => {
    expect(resourceName({ group: "", version: "v1", plural: "configmaps" })).toBe("configmaps");
    expect(
      resourceName({ group: "emailauth.dev", version: "v1alpha1", plural: "flowbindings", namespace: "team-a" }),
    ).toBe("flowbindings.emailauth.dev@team-a");
  });
});
