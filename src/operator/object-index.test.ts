// The secondary index: objects filed under their keys, moved on update, gone on delete.
import { describe, expect, it } from "vitest";
import { indexKey, ObjectIndex } from "./object-index.ts";

type Obj = { metadata: { namespace: string; name: string }; tags: string[] };
const obj = (name: string, ...tags: string[]): Obj => ({ metadata: { namespace: "ns", name }, tags });
const names = (list: Obj[]) => list.map((o) => o.metadata.name).sort();

describe("ObjectIndex", () => {
  it("files each object under its keys, moves it when its keys change and forgets it on delete", () => {
    const index = new ObjectIndex<Obj>((o) => o.tags.map((t) => indexKey("ns", t)));
    index.set(obj("a", "x", "y"));
    index.set(obj("b", "x"));
    index.set(obj("c")); // no keys: filed nowhere
    expect(names(index.get(indexKey("ns", "x")))).toEqual(["a", "b"]);
    expect(index.count(indexKey("ns", "y"))).toBe(1);

    index.set(obj("a", "z"));
    expect(names(index.get(indexKey("ns", "x")))).toEqual(["b"]);
    expect(index.get(indexKey("ns", "y"))).toEqual([]);
    expect(index.get(indexKey("ns", "z"))[0]?.tags).toEqual(["z"]); // the latest object

    index.delete(obj("b"));
    index.delete(obj("never-filed"));
    expect(index.count(indexKey("ns", "x"))).toBe(0);
    expect(indexKey("ns", "x")).not.toBe(indexKey("other", "x"));
  });
});
