// The keyring Secret against the real API server: replicas racing to create it agree on one
// keyring, a rotation request is carried out exactly once, a second one too soon is refused,
// and a damaged Secret is reported, never overwritten.
import { CoreV1Api } from "@kubernetes/client-node";
import { systemClock } from "@emailauth/operator-runtime";
import { beforeAll, describe, expect, it } from "vitest";
import type { KeyObject } from "node:crypto";
import { HMAC_SHA256_KEY, type KeyKind, KEYRING_SECRET_TYPE } from "../../src/keyring/keyring.ts";
import { KeyringSecret, ROTATE_ANNOTATION, ROTATED_FOR_ANNOTATION } from "../../src/keyring/keyring-secret.ts";
import { ES256_KEY } from "../../src/signing/es256-key.ts";
import { controlPlane, createTestNamespace } from "../harness/context.ts";
import { type CoreApi, coreApi, KubeClient } from "@emailauth/operator-runtime";

let core: CoreApi;
/** The administrator's client, for the annotations a person would add with kubectl. */
let adminCore: CoreV1Api;
let namespace: string;

beforeAll(async () => {
  const admin = controlPlane().admin();
  core = coreApi(new KubeClient(admin));
  adminCore = admin.makeApiClient(CoreV1Api);
  namespace = await createTestNamespace(admin, "keyring");
});

const replicas = (name: string, kind: KeyKind<KeyObject>, warnings: string[] = []) =>
  Array.from(
    { length: 5 },
    () =>
      new KeyringSecret<KeyObject>({
        core,
        namespace,
        name,
        kind,
        clock: systemClock,
        minIntervalSeconds: 600,
        warn: (m) => warnings.push(m),
      }),
  );

describe("keyring Secret", () => {
  it("five replicas creating it at once agree on one keyring", async () => {
    const rings = await Promise.all(replicas("race", HMAC_SHA256_KEY).map((r) => r.get()));
    const kids = new Set(rings.map((r) => r.current.kid));
    expect(kids.size).toBe(1);
    expect(new Set(rings.map((r) => r.current.key.export().toString("hex"))).size).toBe(1);
    const secret = await core.readNamespacedSecret({ namespace, name: "race" });
    expect(secret.type).toBe(KEYRING_SECRET_TYPE);
    expect(Object.keys(secret.data ?? {}).sort()).toEqual(["current", `key.${[...kids][0]}`, "rotatedAt"]);
  });

  it("rotates once per request annotation, keeps the previous key, and refuses a rotation too soon", async () => {
    const warnings: string[] = [];
    const all = replicas("rotate", HMAC_SHA256_KEY, warnings);
    const before = await (all[0] as KeyringSecret<KeyObject>).get();
    await adminCore.patchNamespacedSecret({
      namespace,
      name: "rotate",
      // JSON Patch (the client's default for patch).
      body: [{ op: "add", path: "/metadata/annotations", value: { [ROTATE_ANNOTATION]: "first" } }],
    });
    for (const r of all) r.forget();
    const after = await Promise.all(all.map((r) => r.get()));
    expect(new Set(after.map((r) => r.current.kid)).size).toBe(1);
    const ring = after[0]!;
    expect(ring.current.kid).not.toBe(before.current.kid);
    expect(ring.previous?.kid).toBe(before.current.kid);
    expect(ring.previous?.key.equals(before.current.key)).toBe(true);
    const secret = await core.readNamespacedSecret({ namespace, name: "rotate" });
    expect(secret.metadata?.annotations?.[ROTATED_FOR_ANNOTATION]).toBe("first");

    // A second request right away would drop a key that may still be in use: refused, logged.
    await adminCore.patchNamespacedSecret({
      namespace,
      name: "rotate",
      body: [{ op: "replace", path: `/metadata/annotations/${ROTATE_ANNOTATION.replace("/", "~1")}`, value: "second" }],
    });
    for (const r of all) r.forget();
    const unchanged = await (all[1] as KeyringSecret<KeyObject>).get();
    expect(unchanged.current.kid).toBe(ring.current.kid);
    expect(warnings.join("\n")).toContain("may still be in use");
  });

  it("holds ES256 signing keys in the same format", async () => {
    const [a, b] = replicas("signing", ES256_KEY);
    const ring = await a!.get();
    expect((await b!.get()).current.kid).toBe(ring.current.kid);
  });

  it("reports a damaged Secret and leaves it as it is", async () => {
    await core.createNamespacedSecret({
      namespace,
      body: {
        metadata: { name: "damaged" },
        type: KEYRING_SECRET_TYPE,
        stringData: { current: "k1", "key.k1": "too short" },
      },
    });
    const [r] = replicas("damaged", HMAC_SHA256_KEY);
    await expect(r!.get()).rejects.toThrow(/keyring Secret .*\/damaged current key k1: an HMAC key is 32 bytes/);
    const secret = await core.readNamespacedSecret({ namespace, name: "damaged" });
    expect(Buffer.from(secret.data?.["key.k1"] ?? "", "base64").toString()).toBe("too short");
  });
});
