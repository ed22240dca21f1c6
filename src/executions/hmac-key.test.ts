// The caching and race rules of CodeKey with a stand-in for the two calls it makes; the real
// API server behaviour (AlreadyExists between replicas) is in test/integration/executions-store.test.ts.
import { ApiException } from "@kubernetes/client-node";
import type { CoreApi, Secret } from "@emailauth/operator-runtime";
import { describe, expect, it } from "vitest";
import { CODE_KEY_SECRET_TYPE } from "../kinds/labels.ts";
import { CodeKey, loadOrCreateKey } from "./hmac-key.ts";

const status = (code: number, reason: string) =>
  new ApiException(code, reason, JSON.stringify({ kind: "Status", code, reason, message: reason }), {});

function fakeCore(initial?: Secret) {
  const calls: string[] = [];
  let stored = initial;
  let failNextRead = false;
  const core = {
    readNamespacedSecret: ({ name }: { name: string }) => {
      calls.push(`read ${name}`);
      if (failNextRead) {
        failNextRead = false;
        return Promise.reject(status(503, "ServiceUnavailable"));
      }
      return stored ? Promise.resolve(stored) : Promise.reject(status(404, "NotFound"));
    },
    createNamespacedSecret: ({ body }: { body: Secret }) => {
      calls.push(`create ${body.metadata?.name}`);
      if (stored) return Promise.reject(status(409, "AlreadyExists"));
      stored = body;
      return Promise.resolve(body);
    },
  };
  return {
    core: core as unknown as CoreApi,
    calls,
    set: (s: Secret) => (stored = s),
    failNextRead: () => (failNextRead = true),
  };
}

const keySecret = (byte: number, size = 32): Secret => ({
  metadata: { name: "k" },
  data: { key: Buffer.alloc(size, byte).toString("base64") },
});

describe("loadOrCreateKey", () => {
  it("creates a 32-byte key of the code-key type when none exists", async () => {
    const f = fakeCore();
    const key = await loadOrCreateKey(f.core, "ns", "k", (n) => Buffer.alloc(n, 5));
    expect(key).toEqual(Buffer.alloc(32, 5));
    expect(f.calls).toEqual(["read k", "create k"]);
  });

  it("reuses an existing key", async () => {
    const f = fakeCore(keySecret(9));
    expect(await loadOrCreateKey(f.core, "ns", "k")).toEqual(Buffer.alloc(32, 9));
    expect(f.calls).toEqual(["read k"]);
  });

  it("uses the other replica's key after losing the create race", async () => {
    const f = fakeCore();
    const core = {
      readNamespacedSecret: (a: { name: string }) => f.core.readNamespacedSecret(a as never),
      createNamespacedSecret: (a: { body: Secret }) => {
        f.set(keySecret(3)); // another replica wins just before us
        return f.core.createNamespacedSecret(a as never);
      },
    } as unknown as CoreApi;
    expect(await loadOrCreateKey(core, "ns", "k")).toEqual(Buffer.alloc(32, 3));
    expect(f.calls).toEqual(["read k", "create k", "read k"]);
  });

  it("refuses a damaged key Secret without echoing its contents", async () => {
    const f = fakeCore(keySecret(1, 16));
    const err = await loadOrCreateKey(f.core, "ns", "k").catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/has no 32-byte value under "key"/);
    expect((err as Error).message).not.toContain(Buffer.alloc(16, 1).toString("base64"));
  });

  it("labels and types what it creates", async () => {
    const f = fakeCore();
    await loadOrCreateKey(f.core, "ns", "k");
    const created = await f.core.readNamespacedSecret({ namespace: "ns", name: "k" });
    expect(created.type).toBe(CODE_KEY_SECRET_TYPE);
    expect(created.metadata?.labels).toEqual({ "app.kubernetes.io/managed-by": "email-authenticator-operator" });
  });
});

describe("CodeKey", () => {
  it("loads once for concurrent callers and caches the key", async () => {
    const f = fakeCore(keySecret(4));
    const k = new CodeKey(f.core, "ns", "k");
    const [a, b] = await Promise.all([k.get(), k.get()]);
    expect(a).toBe(b);
    await k.get();
    expect(f.calls).toEqual(["read k"]);
    expect(JSON.stringify({ k })).not.toContain(Buffer.alloc(32, 4).toString("base64"));
  });

  it("does not cache a failed load, and forget() reloads", async () => {
    const f = fakeCore(keySecret(4));
    f.failNextRead();
    const k = new CodeKey(f.core, "ns", "k");
    await expect(k.get()).rejects.toMatchObject({ code: 503 });
    expect(await k.get()).toEqual(Buffer.alloc(32, 4));
    f.set(keySecret(6));
    expect(await k.get()).toEqual(Buffer.alloc(32, 4));
    k.forget();
    expect(await k.get()).toEqual(Buffer.alloc(32, 6));
  });
});
