// list-watch.ts writes `requestTimeoutMs`, a private field of client-node's Watch (see its
// header). These tests use the installed client itself, so a client upgrade that removes,
// renames, retypes or stops honouring the field fails here instead of silently leaving
// watches on the client's 30 s default.
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createListWatch, setWatchRequestTimeout } from "./list-watch.ts";

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server, skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

describe("client-node's Watch.requestTimeoutMs", () => {
  it("exists as an own numeric field on a new Watch", () => {
    const watch = new Watch(kubeConfig("http://127.0.0.1:1"));
    expect(Object.hasOwn(watch, "requestTimeoutMs")).toBe(true);
    expect(typeof (watch as unknown as Record<string, unknown>).requestTimeoutMs).toBe("number");
  });

  it("is set by setWatchRequestTimeout, which refuses a Watch without the field", () => {
    const watch = new Watch(kubeConfig("http://127.0.0.1:1"));
    setWatchRequestTimeout(watch, 12_345);
    expect((watch as unknown as Record<string, unknown>).requestTimeoutMs).toBe(12_345);
    const changed = new Watch(kubeConfig("http://127.0.0.1:1"));
    delete (changed as unknown as Record<string, unknown>).requestTimeoutMs;
    expect(() => setWatchRequestTimeout(changed, 1000)).toThrow(/requestTimeoutMs/);
  });

  describe("bounds a watch against a server that never answers", () => {
    // A plain HTTP server that accepts the request and then says nothing: what a half-open
    // connection looks like from the client.
    let server: Server;
    let url = "";
    const held: IncomingMessage[] = [];
    beforeAll(async () => {
      server = createServer((req) => held.push(req));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it("by the time the list-watch set, not the client's 30 s default", async () => {
      const lw = createListWatch(
        kubeConfig(url),
        { group: "", version: "v1", plural: "configmaps" },
        {
          requestTimeoutMs: 300,
        },
      );
      const started = Date.now();
      const outcome = await lw
        .watch({ resourceVersion: "1", timeoutSeconds: 300, signal: AbortSignal.timeout(20_000) }, () => {})
        .then(
          () => "resolved",
          (err: unknown) => (err instanceof Error ? err.name : String(err)),
        );
      const elapsed = Date.now() - started;
      expect(outcome).toBe("TimeoutError");
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(10_000);
      expect(held.length).toBeGreaterThanOrEqual(1);
      expect(held[0]?.url).toContain("watch=true");
    });
  });
});
