import { describe, expect, it } from "vitest";
import { type InvalidObject, joinCaches, type ObjectCache } from "./object-cache.ts";

type Obj = { metadata: { namespace: string; name: string } };
const obj = (namespace: string, name: string): Obj => ({ metadata: { namespace, name } });

function cache(items: Obj[], invalid: Record<string, InvalidObject> = {}): ObjectCache<Obj> {
  return {
    get: (ns, name) => items.find((o) => o.metadata.namespace === ns && o.metadata.name === name),
    list: (ns) => items.filter((o) => ns === undefined || o.metadata.namespace === ns),
    invalid: (ns, name) => invalid[`${ns}/${name}`],
  };
}

describe("joinCaches", () => {
  const broken: InvalidObject = { object: { metadata: { namespace: "b", name: "x" } }, error: new Error("spec: bad") };
  const joined = joinCaches(
    new Map([
      ["a", cache([obj("a", "1"), obj("a", "2")])],
      ["b", cache([obj("b", "1")], { "b/x": broken })],
    ]),
  );

  it("reads each namespace from its own cache and lists them all together", () => {
    expect(joined.get("a", "2")).toEqual(obj("a", "2"));
    expect(joined.get("b", "2")).toBeUndefined();
    expect(joined.get("unwatched", "1")).toBeUndefined();
    expect(joined.list("b")).toEqual([obj("b", "1")]);
    expect(joined.list("unwatched")).toEqual([]);
    expect(joined.list()).toHaveLength(3);
  });

  it("finds the object that failed to decode in its namespace's cache", () => {
    expect(joined.invalid?.("b", "x")).toBe(broken);
    expect(joined.invalid?.("a", "x")).toBeUndefined();
    expect(joined.invalid?.("unwatched", "x")).toBeUndefined();
  });
});
