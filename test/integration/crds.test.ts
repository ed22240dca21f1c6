// The CRDs as the real API server enforces them: defaults filled in, invalid objects refused
// with the server's own message naming the field, nothing stored after a refusal.
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { CustomObjectsApi, type KubernetesObject } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import { stageSpec } from "../../src/kinds/v1alpha1/stage.ts";
import { flowBindingSpec } from "../../src/kinds/v1alpha1/flowbinding.ts";
import { emailDeviceSpec } from "../../src/kinds/v1alpha1/emaildevice.ts";
import { controlPlane, createTestNamespace } from "../harness/context.ts";
import { readManifests } from "../harness/manifests.ts";
import { repoRoot, tool } from "../harness/paths.ts";

const plane = controlPlane();
const api = plane.admin().makeApiClient(CustomObjectsApi);
let ns = "";

const plural = {
  EmailAuthenticatorStage: "emailauthenticatorstages",
  FlowBinding: "flowbindings",
  EmailDevice: "emaildevices",
};
type Kind = keyof typeof plural;

function create(
  kind: Kind,
  name: string,
  spec: unknown,
): Promise<KubernetesObject & { spec: Record<string, unknown> }> {
  return api.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ns,
    plural: plural[kind],
    // Strict is what kubectl sends by default: unknown fields are errors, not silently pruned.
    fieldValidation: "Strict",
    body: { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name }, spec },
  }) as Promise<KubernetesObject & { spec: Record<string, unknown> }>;
}

/** A JSON patch replacing one spec field. */
function replaceField(kind: Kind, name: string, field: string, value: unknown): Promise<unknown> {
  const body = [{ op: "replace", path: `/spec/${field}`, value }];
  return api.patchNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ns,
    plural: plural[kind],
    name,
    body,
    fieldValidation: "Strict",
  });
}

async function rejection(p: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code: number; body: string };
    return { code: err.code, message: (JSON.parse(err.body) as { message: string }).message };
  }
  throw new Error("the API server accepted an invalid object");
}

async function exists(kind: Kind, name: string): Promise<boolean> {
  try {
    await api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: plural[kind], name });
    return true;
  } catch (e) {
    if ((e as { code?: number }).code === 404) return false;
    throw e;
  }
}

beforeAll(async () => {
  ns = await createTestNamespace(plane.admin(), "crds");
});

describe("defaults", () => {
  it("fills in the seed's defaults on a minimal stage, the same ones zod applies", async () => {
    const created = await create("EmailAuthenticatorStage", "minimal", {});
    expect(created.spec).toEqual({
      useGlobalSettings: false,
      connection: {
        host: "localhost",
        port: 25,
        useTLS: false,
        useSSL: false,
        timeout: 10,
        fromAddress: "system@authentik.local",
        allowInsecureAuth: false,
      },
      subject: "authentik Sign-in code",
      tokenExpiry: 30,
      codeLength: 6,
      limits: { attemptsPerCode: 5, failuresPerDay: 10, resendCooldownSeconds: 60, sendsPerAddressPerHour: 5 },
      connectionCheck: { enabled: false, intervalMinutes: 10 },
      deviceDeletionPolicy: "Retain",
    });
    // One source of truth: what the server defaults is what the operator's schema defaults.
    expect(stageSpec.parse({})).toEqual(created.spec);
  });

  it("defaults nested references and binding fields", async () => {
    const stage = await create("EmailAuthenticatorStage", "with-refs", {
      connection: { credentialsSecretRef: { name: "smtp" }, caBundleSecretRef: { name: "relay-ca" } },
      templateRef: { name: "templates" },
    });
    expect(stage.spec.connection).toMatchObject({
      credentialsSecretRef: { name: "smtp", usernameKey: "username", passwordKey: "password" },
      caBundleSecretRef: { name: "relay-ca", key: "ca.crt" },
    });
    expect(stage.spec.templateRef).toEqual({ name: "templates", htmlKey: "email_otp.html", textKey: "email_otp.txt" });
    const binding = await create("FlowBinding", "defaults", { flow: "login", stageRef: { name: "with-refs" } });
    expect(binding.spec).toEqual({ flow: "login", stageRef: { name: "with-refs" }, order: 0, intent: "Setup" });
    expect(flowBindingSpec.parse({ flow: "login", stageRef: { name: "with-refs" } })).toEqual(binding.spec);
  });

  it("accepts every example in manifests/examples and zod reads back what the server stored", async () => {
    const dir = join(repoRoot, "manifests", "examples");
    const objects = readdirSync(dir).flatMap((f) => readManifests(join(dir, f)));
    const custom = objects.filter((o) => o.apiVersion === `${GROUP}/${VERSION}`);
    expect(custom.length).toBeGreaterThanOrEqual(4);
    const schemas = { EmailAuthenticatorStage: stageSpec, FlowBinding: flowBindingSpec, EmailDevice: emailDeviceSpec };
    for (const object of custom) {
      const kind = object.kind as Kind;
      const stored = await create(kind, object.metadata?.name ?? "", (object as { spec: unknown }).spec);
      expect(schemas[kind].parse(stored.spec)).toEqual(stored.spec);
    }
  });
});

const badStages: [string, unknown, RegExp][] = [
  [
    "both TLS modes",
    { connection: { useTLS: true, useSSL: true } },
    /spec\.connection: Invalid value.*mutually exclusive/,
  ],
  ["port 0", { connection: { port: 0 } }, /spec\.connection\.port: Invalid value: 0: .*greater than or equal to 1/],
  ["port above 65535", { connection: { port: 70000 } }, /spec\.connection\.port: Invalid value: 70000/],
  ["port as a string", { connection: { port: "25" } }, /spec\.connection\.port: Invalid value: "string"/],
  ["negative timeout", { connection: { timeout: -1 } }, /spec\.connection\.timeout: Invalid value: -1/],
  [
    "malformed from address",
    { connection: { fromAddress: "not-an-address" } },
    /spec\.connection\.fromAddress: Invalid value: "not-an-address"/,
  ],
  [
    "header injection in the from address",
    { connection: { fromAddress: "a@example.com\r\nBcc: x@evil.test" } },
    /spec\.connection\.fromAddress: Invalid value/,
  ],
  [
    "local part over 64 characters",
    { connection: { fromAddress: `${"a".repeat(65)}@example.com` } },
    /spec\.connection\.fromAddress: Invalid value.*local part/,
  ],
  ["unknown field", { connection: { hostname: "smtp" } }, /unknown field "spec\.connection\.hostname"/],
  ["zero tokenExpiry", { tokenExpiry: 0 }, /spec\.tokenExpiry: Invalid value: 0/],
  ["tokenExpiry over a day", { tokenExpiry: 100000 }, /spec\.tokenExpiry: Invalid value: 100000/],
  ["CR/LF in the subject", { subject: "Code\r\nBcc: x@evil.test" }, /spec\.subject: Invalid value/],
  ["four-digit codes", { codeLength: 4 }, /spec\.codeLength: Invalid value: 4/],
  ["no attempts per code", { limits: { attemptsPerCode: 0 } }, /spec\.limits\.attemptsPerCode: Invalid value: 0/],
  [
    "credentials without a Secret name",
    { connection: { credentialsSecretRef: { usernameKey: "user" } } },
    /spec\.connection\.credentialsSecretRef\.name: Required value/,
  ],
  [
    "host with a scheme",
    { connection: { host: "smtp://relay" } },
    /spec\.connection\.host: Invalid value: "smtp:\/\/relay"/,
  ],
  [
    "an unknown device deletion policy",
    { deviceDeletionPolicy: "Orphan" },
    /spec\.deviceDeletionPolicy: Unsupported value: "Orphan": supported values: "Retain", "Delete"/,
  ],
  [
    "allowInsecureAuth as a string",
    { connection: { allowInsecureAuth: "yes" } },
    /spec\.connection\.allowInsecureAuth: Invalid value: "string"/,
  ],
];

describe("invalid EmailAuthenticatorStages", () => {
  it.each(badStages)("refuses %s, naming the field, and stores nothing", async (_what, spec, message) => {
    const name = `bad-${Math.random().toString(36).slice(2, 10)}`;
    const { code, message: text } = await rejection(create("EmailAuthenticatorStage", name, spec));
    // 422 Invalid for schema and CEL failures; 400 BadRequest for strict decoding (unknown fields).
    expect([400, 422]).toContain(code);
    expect(text).toMatch(message);
    expect(await exists("EmailAuthenticatorStage", name)).toBe(false);
  });

  it("refuses a stage name too long to label its executions", async () => {
    const { message } = await rejection(create("EmailAuthenticatorStage", "s".repeat(64), {}));
    expect(message).toMatch(/a stage name is at most 63 characters/);
  });

  it("refuses an object without spec", async () => {
    const { message } = await rejection(
      api.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ns,
        plural: plural.EmailAuthenticatorStage,
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: "EmailAuthenticatorStage", metadata: { name: "no-spec" } },
      }),
    );
    expect(message).toMatch(/spec: Required value/);
  });
});

describe("invalid FlowBindings and EmailDevices", () => {
  it.each([
    ["a missing stageRef", { flow: "login" }, /spec\.stageRef: Required value/],
    ["an uppercase flow name", { flow: "Bad_Flow", stageRef: { name: "s" } }, /spec\.flow: Invalid value: "Bad_Flow"/],
    [
      "an unknown intent",
      { flow: "login", stageRef: { name: "s" }, intent: "Bogus" },
      /spec\.intent: Unsupported value: "Bogus"/,
    ],
    [
      "whenNoDevice on a Setup binding",
      { flow: "login", stageRef: { name: "s" }, whenNoDevice: "Deny" },
      /spec\.whenNoDevice: Invalid value.*applies only to intent Authenticate/,
    ],
    ["a negative order", { flow: "login", stageRef: { name: "s" }, order: -1 }, /spec\.order: Invalid value: -1/],
  ])("refuses a FlowBinding with %s", async (_what, spec, message) => {
    const name = `bad-${Math.random().toString(36).slice(2, 10)}`;
    const { code, message: text } = await rejection(create("FlowBinding", name, spec));
    expect(code).toBe(422);
    expect(text).toMatch(message);
    expect(await exists("FlowBinding", name)).toBe(false);
  });

  it("refuses changing a FlowBinding's stage and keeps the old one", async () => {
    await create("FlowBinding", "immutable", { flow: "login", stageRef: { name: "first" } });
    const { code, message } = await rejection(replaceField("FlowBinding", "immutable", "stageRef", { name: "second" }));
    expect(code).toBe(422);
    expect(message).toMatch(/spec\.stageRef: Invalid value.*stageRef is immutable/);
    const stored = (await api.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: plural.FlowBinding,
      name: "immutable",
    })) as {
      spec: { stageRef: { name: string } };
    };
    expect(stored.spec.stageRef.name).toBe("first");
    // Other fields stay editable.
    await replaceField("FlowBinding", "immutable", "order", 5);
  });

  it("refuses a device with a control character in the user id or a malformed address", async () => {
    const device = (email: string, id = "u1") => ({ stageRef: { name: "s" }, user: { id }, email });
    expect((await rejection(create("EmailDevice", "bad-email", device("alice@@example.com")))).message).toMatch(
      /spec\.email: Invalid value/,
    );
    expect((await rejection(create("EmailDevice", "bad-user", device("a@example.com", "u\n1")))).message).toMatch(
      /spec\.user\.id: Invalid value/,
    );
  });

  it("refuses changing a device's address", async () => {
    await create("EmailDevice", "fixed", { stageRef: { name: "s" }, user: { id: "u1" }, email: "a@example.com" });
    const { message } = await rejection(replaceField("EmailDevice", "fixed", "email", "b@example.com"));
    expect(message).toMatch(/spec\.email: Invalid value.*email is immutable/);
  });
});

describe("kubectl", () => {
  const kubectl = (...args: string[]) =>
    execFileSync(tool("kubectl"), ["--kubeconfig", plane.info.adminKubeconfig, "-n", ns, ...args], {
      encoding: "utf8",
    });

  it("shows the printer columns for `kubectl get eas`", () => {
    const out = kubectl("get", "eas", "minimal");
    expect(out.split("\n")[0]?.split(/\s+/)).toEqual([
      "NAME",
      "READY",
      "REASON",
      "ENDPOINT",
      "TLS",
      "EXPIRY",
      "DEVICES",
      "AGE",
    ]);
    expect(out).toMatch(/^minimal\s+.*\s30\s/m);
    const wide = kubectl("get", "eas", "minimal", "-o", "wide");
    expect(wide.split("\n")[0]).toMatch(/SETTINGS.*MESSAGE/);
  });

  it("lists all three kinds through the category and short names", () => {
    const out = kubectl("get", "emailauth");
    expect(out).toMatch(/emailauthenticatorstage\.emailauth\.dev\/minimal/);
    expect(out).toMatch(/flowbinding\.emailauth\.dev\/immutable/);
    expect(out).toMatch(/emaildevice\.emailauth\.dev\/fixed/);
    expect(kubectl("get", "fb").split("\n")[0]).toMatch(/^NAME\s+FLOW\s+ORDER\s+STAGE\s+INTENT\s+READY\s+REASON\s+AGE/);
  });

  it("reports an unknown field with kubectl's default strict validation", () => {
    let stderr = "";
    try {
      execFileSync(tool("kubectl"), ["--kubeconfig", plane.info.adminKubeconfig, "-n", ns, "apply", "-f", "-"], {
        input: `apiVersion: ${GROUP}/${VERSION}\nkind: EmailAuthenticatorStage\nmetadata: {name: typo}\nspec: {tokenExpiri: 5}\n`,
        encoding: "utf8",
        stdio: ["pipe", "pipe", "pipe"],
      });
    } catch (e) {
      stderr = String((e as { stderr: string }).stderr);
    }
    expect(stderr).toMatch(/unknown field "spec\.tokenExpiri"/);
  });
});
