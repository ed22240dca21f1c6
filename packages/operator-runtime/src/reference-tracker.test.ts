import { describe, expect, it } from "vitest";
import { ReferenceTracker, type ObjectRef, type SingleObjectWatch } from "./reference-tracker.ts";

class FakeWatch implements SingleObjectWatch<string> {
  synced = false;
  value: string | null = null;
  stopped = false;
  readonly ref: ObjectRef;
  readonly onChange: () => void;
  constructor(ref: ObjectRef, onChange: () => void) {
    this.ref = ref;
    this.onChange = onChange;
  }
  hasSynced() {
    return this.synced;
  }
  get() {
    return this.value;
  }
  stop() {
    this.stopped = true;
    return Promise.resolve();
  }
}

function setup() {
  const watches: FakeWatch[] = [];
  const changed: string[][] = [];
  const tracker = new ReferenceTracker<string>(
    (ref, onChange) => {
      const w = new FakeWatch(ref, onChange);
      watches.push(w);
      return w;
    },
    (owners) => changed.push(owners.sort()),
  );
  return { tracker, watches, changed };
}
const secret = (name: string): ObjectRef => ({ kind: "Secret", namespace: "app", name });

describe("ReferenceTracker", () => {
  it("shares one watch per object between owners and re-enqueues all of them on change", () => {
    const { tracker, watches, changed } = setup();
    expect(tracker.track("app/a", [secret("creds")])).toBe(false);
    tracker.track("app/b", [secret("creds")]);
    expect(watches).toHaveLength(1);
    watches[0]?.onChange();
    expect(changed).toEqual([["app/a", "app/b"]]);
  });

  it("reports sync and distinguishes absent (null) from unknown (undefined)", () => {
    const { tracker, watches } = setup();
    tracker.track("app/a", [secret("creds")]);
    expect(tracker.get(secret("creds"))).toBeUndefined();
    watches[0]!.synced = true;
    expect(tracker.track("app/a", [secret("creds")])).toBe(true);
    expect(tracker.get(secret("creds"))).toBeNull();
    watches[0]!.value = "x";
    expect(tracker.get(secret("creds"))).toBe("x");
  });

  it("stops a watch when its last owner drops the reference or is forgotten", () => {
    const { tracker, watches } = setup();
    tracker.track("app/a", [secret("one"), secret("two")]);
    tracker.track("app/b", [secret("two")]);
    tracker.track("app/a", [secret("two")]);
    expect(watches.find((w) => w.ref.name === "one")?.stopped).toBe(true);
    tracker.forget("app/a");
    expect(watches.find((w) => w.ref.name === "two")?.stopped).toBe(false);
    tracker.forget("app/b");
    expect(watches.find((w) => w.ref.name === "two")?.stopped).toBe(true);
    expect(tracker.watchedCount()).toBe(0);
  });
});
