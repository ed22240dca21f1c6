import { describe, expect, it } from "vitest";
import { keyOf, objectKey, Store } from "./informer-store.ts";

interface Obj {
  kind?: string;
  metadata?: { namespace?: string; name?: string; uid?: string; resourceVersion?: string };
  data?: string;
}

const obj = (
  namespace: string,
  name: string,
  resourceVersion: string,
  uid = `${namespace}-${name}`,
  data?: string,
): Obj => ({
  kind: "ConfigMap",
  metadata: { namespace, name, uid, resourceVersion },
  ...(data ? { data } : {}),
});

describe("keys", () => {
  it("are namespace/name, or just the name without a namespace", () => {
    expect(keyOf(obj("ns", "a", "1"))).toBe("ns/a");
    expect(objectKey(undefined, "cluster-scoped")).toBe("cluster-scoped");
    expect(objectKey("", "x")).toBe("x");
  });

  it("refuse an object without a name", () => {
    expect(() => keyOf({ kind: "ConfigMap", metadata: {} })).toThrow(/metadata.name/);
  });
});

describe("Store", () => {
  it("gets, lists by namespace, upserts and removes", () => {
    const store = new Store<Obj>();
    expect(store.upsert(obj("a", "x", "1"))).toBeUndefined();
    store.upsert(obj("b", "y", "2"));
    const old = store.upsert(obj("a", "x", "3"));
    expect(old?.metadata?.resourceVersion).toBe("1");
    expect(store.get("a", "x")?.metadata?.resourceVersion).toBe("3");
    expect(store.list("a").map(keyOf)).toEqual(["a/x"]);
    expect(store.list().map(keyOf).sort()).toEqual(["a/x", "b/y"]);
    expect(store.list("none")).toEqual([]);
    expect(store.remove(obj("b", "y", "9"))?.metadata?.resourceVersion).toBe("2");
    expect(store.remove(obj("b", "y", "9"))).toBeUndefined();
    expect(store.size).toBe(1);
    expect(store.keys()).toEqual(["a/x"]);
  });

  it("turns a first list into adds", () => {
    const store = new Store<Obj>();
    const deltas = store.replace([obj("ns", "a", "1"), obj("ns", "b", "2")]);
    expect(deltas.map((d) => [d.type, keyOf(d.object)])).toEqual([
      ["add", "ns/a"],
      ["add", "ns/b"],
    ]);
  });

  it("turns a relist into the difference: deletes, then adds and updates; unchanged objects say nothing", () => {
    const store = new Store<Obj>();
    store.replace([obj("ns", "kept", "1"), obj("ns", "changed", "2"), obj("ns", "gone", "3")]);
    const deltas = store.replace([
      obj("ns", "kept", "1"),
      obj("ns", "changed", "7", undefined, "new"),
      obj("ns", "new", "8"),
    ]);
    expect(deltas.map((d) => [d.type, keyOf(d.object), d.object.metadata?.resourceVersion])).toEqual([
      ["delete", "ns/gone", "3"],
      ["update", "ns/changed", "7"],
      ["add", "ns/new", "8"],
    ]);
    const update = deltas.find((d) => d.type === "update");
    expect(update?.type === "update" && update.old.metadata?.resourceVersion).toBe("2");
    expect(store.list().map(keyOf).sort()).toEqual(["ns/changed", "ns/kept", "ns/new"]);
    expect(store.get("ns", "gone")).toBeUndefined();
  });

  it("reports an object re-created under the same name (new uid) as delete then add", () => {
    const store = new Store<Obj>();
    store.replace([obj("ns", "a", "1", "uid-1")]);
    const deltas = store.replace([obj("ns", "a", "5", "uid-2")]);
    expect(deltas.map((d) => [d.type, d.object.metadata?.uid])).toEqual([
      ["delete", "uid-1"],
      ["add", "uid-2"],
    ]);
  });

  it("empties on an empty list, reporting every object as deleted", () => {
    const store = new Store<Obj>();
    store.replace([obj("ns", "a", "1"), obj("other", "b", "2")]);
    expect(store.replace([]).map((d) => d.type)).toEqual(["delete", "delete"]);
    expect(store.size).toBe(0);
  });
});
