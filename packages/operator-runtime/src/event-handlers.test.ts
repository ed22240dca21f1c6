import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { pino } from "pino";
import { EventHandlers } from "./event-handlers.ts";

function setup() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, callback) {
      for (const l of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      callback();
    },
  });
  return {
    lines,
    handlers: new EventHandlers<string>(
      pino({ level: "debug", formatters: { level: (label) => ({ level: label }) } }, stream),
    ),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("EventHandlers", () => {
  it("calls each kind of handler, in registration order, synchronously", () => {
    const { handlers } = setup();
    const seen: string[] = [];
    handlers.onAdd((o) => seen.push(`add1 ${o}`));
    handlers.onAdd((o) => seen.push(`add2 ${o}`));
    handlers.onUpdate((old, o) => seen.push(`update ${old}->${o}`));
    handlers.onDelete((o) => seen.push(`delete ${o}`));
    handlers.onResync((key, o) => seen.push(`resync ${key} ${o}`));
    handlers.dispatch({ type: "add", object: "a" });
    handlers.dispatch({ type: "update", old: "a", object: "b" });
    handlers.dispatch({ type: "delete", object: "b" });
    handlers.resync("ns/b", "b");
    expect(seen).toEqual(["add1 a", "add2 a", "update a->b", "delete b", "resync ns/b b"]);
  });

  it("contains a throwing handler: the next one still runs and the failure is logged", () => {
    const { handlers, lines } = setup();
    const seen: string[] = [];
    handlers.onAdd(() => {
      throw new Error("boom");
    });
    handlers.onAdd((o) => seen.push(o));
    expect(() => handlers.dispatch({ type: "add", object: "x" })).not.toThrow();
    expect(seen).toEqual(["x"]);
    expect(lines).toMatchObject([
      { level: "error", event: "add", msg: "informer event handler failed", err: { message: "boom" } },
    ]);
  });

  it("contains a rejecting async handler without an unhandled rejection", async () => {
    const { handlers, lines } = setup();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      handlers.onDelete(async () => {
        await tick();
        throw new Error("async boom");
      });
      handlers.dispatch({ type: "delete", object: "x" });
      for (let i = 0; i < 5; i++) await tick();
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(lines).toMatchObject([{ level: "error", event: "delete", err: { message: "async boom" } }]);
  });
});
