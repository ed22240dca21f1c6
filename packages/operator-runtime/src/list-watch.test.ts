// The list-watch's own HTTP handling against a stand-in server that scripts each answer: events
// split across chunks, an ERROR event, a throwing handler, an abort, and a connection that never
// says anything (a half-open socket), which only the inactivity timer can end.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { isGone, normalizeError } from "./errors.ts";
import { KubeClient } from "./kube-client.ts";
import { createListWatch, type WatchEvent } from "./list-watch.ts";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = () => {};
let server: Server;
let url = "";
const seen: IncomingMessage[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  seen.length = 0;
  server.closeAllConnections();
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const kube = () =>
  new KubeClient({ getCurrentCluster: () => ({ server: url }), getCurrentUser: () => ({ token: "t" }) });
const configMaps = (o: { requestTimeoutMs?: number; pageSize?: number } = {}) =>
  createListWatch(kube(), { group: "", version: "v1", plural: "configmaps", namespace: "ns" }, o);
const cm = (name: string, rv: string) => ({
  kind: "ConfigMap",
  apiVersion: "v1",
  metadata: { name, resourceVersion: rv },
});
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;
const watchOnce = (
  lw: ReturnType<typeof configMaps>,
  events: WatchEvent<unknown>[],
  signal = AbortSignal.timeout(20_000),
) => lw.watch({ resourceVersion: "5", timeoutSeconds: 300, signal }, (e) => events.push(e));

describe("watch", () => {
  it("delivers events split anywhere across chunks, asks for bookmarks, and resolves when the server ends", async () => {
    handler = (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const text =
        line("ADDED", cm("a", "6")) +
        line("BOOKMARK", { metadata: { resourceVersion: "7" } }) +
        line("DELETED", cm("a", "8"));
      // One byte at a time: no event may depend on arriving whole.
      let i = 0;
      const next = () => (i < text.length ? res.write(text[i++], () => setImmediate(next)) : res.end());
      next();
    };
    const events: WatchEvent<unknown>[] = [];
    await watchOnce(configMaps(), events);
    expect(events.map((e) => e.type)).toEqual(["ADDED", "BOOKMARK", "DELETED"]);
    const query = new URL(seen[0]!.url!, url).searchParams;
    expect(Object.fromEntries(query)).toMatchObject({
      watch: "true",
      resourceVersion: "5",
      allowWatchBookmarks: "true",
      timeoutSeconds: "300",
    });
    expect(seen[0]!.headers.authorization).toBe("Bearer t");
  });

  it("rejects on an ERROR event with the Status, so 410 Expired means relist", async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write(line("ADDED", cm("a", "6")));
      res.write(line("ERROR", { kind: "Status", code: 410, reason: "Expired", message: "too old resource version" }));
    };
    const events: WatchEvent<unknown>[] = [];
    const err = await watchOnce(configMaps(), events).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(events).toHaveLength(1);
    expect(isGone(err)).toBe(true);
    expect(normalizeError(err)).toMatchObject({ reason: "Expired", message: "too old resource version" });
  });

  it("rejects with the Status when the watch request itself is refused", async () => {
    handler = (_req, res) => {
      res.writeHead(410).end(JSON.stringify({ kind: "Status", code: 410, reason: "Gone", message: "gone" }));
    };
    const err = await watchOnce(configMaps(), []).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(normalizeError(err)).toMatchObject({ kind: "api", status: 410, reason: "Gone", retryable: true });
  });

  it("ends the watch with the handler's exception instead of swallowing it", async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write(line("ADDED", cm("a", "6")));
    };
    const boom = new Error("handler failed");
    const err = await configMaps()
      .watch({ resourceVersion: "5", timeoutSeconds: 300, signal: AbortSignal.timeout(20_000) }, () => {
        throw boom;
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBe(boom);
  });

  it("rejects with the caller's abort reason", async () => {
    handler = (_req, res) => res.writeHead(200).flushHeaders();
    const controller = new AbortController();
    const pending = watchOnce(configMaps(), [], controller.signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    setTimeout(() => controller.abort(), 50);
    expect(normalizeError(await pending)).toMatchObject({ kind: "aborted" });
  });

  it("ends a watch that stays silent past its inactivity limit, connecting or connected", async () => {
    // Accepts and never answers: what a half-open connection looks like from the client.
    handler = () => {};
    const started = Date.now();
    const silentConnect = await watchOnce(configMaps({ requestTimeoutMs: 300 }), []).then(
      () => "resolved",
      (e: Error) => e.name,
    );
    expect(silentConnect).toBe("TimeoutError");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    // Headers and one event, then silence: the timer restarts with every chunk and still fires.
    handler = (_req, res) => {
      res.writeHead(200);
      res.write(line("ADDED", cm("a", "6")));
    };
    const events: WatchEvent<unknown>[] = [];
    const silentStream = await watchOnce(configMaps({ requestTimeoutMs: 300 }), events).then(
      () => "resolved",
      (e: Error) => e.name,
    );
    expect(events).toHaveLength(1);
    expect(silentStream).toBe("TimeoutError");
    expect(normalizeError(new DOMException("x", "TimeoutError"))).toMatchObject({ kind: "network", retryable: true });
  });
});

describe("list", () => {
  it("pages with continue tokens and gives list items their kind", async () => {
    handler = (req, res) => {
      const q = new URL(req.url!, url).searchParams;
      const page = q.get("continue") === "p2" ? 2 : 1;
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          kind: "ConfigMapList",
          apiVersion: "v1",
          metadata: { resourceVersion: "9", ...(page === 1 ? { continue: "p2" } : {}) },
          items: [{ metadata: { name: `item-${page}` } }],
        }),
      );
    };
    const result = await configMaps({ pageSize: 1 }).list(AbortSignal.timeout(10_000));
    expect(result.resourceVersion).toBe("9");
    expect(result.items).toEqual([
      { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "item-1" } },
      { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "item-2" } },
    ]);
    expect(seen.map((r) => new URL(r.url!, url).searchParams.get("limit"))).toEqual(["1", "1"]);
  });

  it("starts over unpaged when the continue token expired", async () => {
    handler = (req, res) => {
      const q = new URL(req.url!, url).searchParams;
      if (q.get("continue")) {
        res.writeHead(410).end(JSON.stringify({ kind: "Status", code: 410, reason: "Expired", message: "expired" }));
        return;
      }
      const paged = q.has("limit");
      res.writeHead(200).end(
        JSON.stringify({
          kind: "ConfigMapList",
          apiVersion: "v1",
          metadata: { resourceVersion: paged ? "9" : "12", ...(paged ? { continue: "p2" } : {}) },
          items: paged ? [{ metadata: { name: "a" } }] : [{ metadata: { name: "a" } }, { metadata: { name: "b" } }],
        }),
      );
    };
    const result = await configMaps({ pageSize: 1 }).list(AbortSignal.timeout(10_000));
    expect(result.resourceVersion).toBe("12");
    expect(result.items.map((i) => (i as { metadata: { name: string } }).metadata.name)).toEqual(["a", "b"]);
    expect(seen).toHaveLength(3);
  });
});
