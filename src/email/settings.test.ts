import type { Secret } from "@emailauth/operator-runtime";
import { rmSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { stageSpec } from "../kinds/v1alpha1/stage.ts";
import { createTestPki } from "../../test/harness/pki.ts";
import { connectionSummary, resolveSmtpSettings, type SettingsInput } from "./settings.ts";

const global = { namespace: "ops", configMap: "smtp", secret: "" };
const secret = (name: string, data: Record<string, string>): Secret => ({
  metadata: { namespace: "app", name },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
});
const input = (spec: unknown, extra: Partial<SettingsInput> = {}): SettingsInput => ({
  namespace: "app",
  spec: stageSpec.parse(spec),
  global,
  ...extra,
});
let caPem = "";

beforeAll(() => {
  const pki = createTestPki();
  caPem = pki.caPem;
  rmSync(pki.dir, { recursive: true, force: true }); // only the CA's text is needed
});

describe("stage settings", () => {
  it("defaults to the seed's plain localhost:25", () => {
    const r = resolveSmtpSettings(input({}));
    expect(r).toEqual({
      ok: true,
      settings: {
        source: "Stage",
        host: "localhost",
        port: 25,
        tlsMode: "None",
        timeoutSeconds: 10,
        fromAddress: "system@authentik.local",
      },
    });
  });

  it("maps useSSL to implicit TLS and useTLS to STARTTLS, with credentials and CA", () => {
    const spec = {
      connection: {
        host: "relay",
        port: 465,
        useSSL: true,
        credentialsSecretRef: { name: "creds" },
        caBundleSecretRef: { name: "ca" },
      },
    };
    const r = resolveSmtpSettings(
      input(spec, {
        credentialsSecret: secret("creds", { username: "u", password: "p" }),
        caSecret: secret("ca", { "ca.crt": caPem }),
      }),
    );
    expect(r.ok && r.settings).toMatchObject({ tlsMode: "ImplicitTLS", auth: { user: "u", pass: "p" }, ca: caPem });
    const starttls = resolveSmtpSettings(input({ connection: { useTLS: true } }));
    expect(starttls.ok && starttls.settings.tlsMode).toBe("STARTTLS");
  });

  it.each([
    [
      "a missing credentials Secret",
      { connection: { credentialsSecretRef: { name: "creds" } } },
      { credentialsSecret: null },
      "SecretNotFound",
      "credentials Secret app/creds does not exist",
    ],
    [
      "a missing password key",
      { connection: { credentialsSecretRef: { name: "creds" } } },
      { credentialsSecret: secret("creds", { username: "u" }) },
      "MissingSecretKey",
      "app/creds has no key password",
    ],
    [
      "a CA Secret without the key",
      { connection: { caBundleSecretRef: { name: "ca" } } },
      { caSecret: secret("ca", {}) },
      "MissingSecretKey",
      "has no key ca.crt",
    ],
    [
      "a CA bundle that is not PEM",
      { connection: { caBundleSecretRef: { name: "ca" } } },
      { caSecret: secret("ca", { "ca.crt": "hello" }) },
      "InvalidCABundle",
      "no PEM certificate",
    ],
    [
      "both TLS modes (stored before the CEL rule)",
      { connection: { useTLS: true } },
      {},
      "ConflictingTLSModes",
      "choose one",
    ],
  ])("reports %s", (_what, spec, extra, reason, message) => {
    const i = input(spec, extra);
    if (reason === "ConflictingTLSModes") i.spec.connection.useSSL = true;
    const r = resolveSmtpSettings(i);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toBe(reason);
    expect(!r.ok && r.message).toContain(message);
  });
});

describe("global settings", () => {
  const cm = (data: Record<string, string>) => ({ metadata: { namespace: "ops", name: "smtp" }, data });

  it("parses the ConfigMap strings and uses the global credentials", () => {
    const r = resolveSmtpSettings(
      input(
        { useGlobalSettings: true },
        {
          global: { ...global, secret: "smtp-creds" },
          globalConfigMap: cm({ host: "mail", port: "587", tlsMode: "STARTTLS", fromAddress: "a@example.com" }),
          globalSecret: secret("smtp-creds", { username: "u", password: "p" }),
        },
      ),
    );
    expect(r).toEqual({
      ok: true,
      settings: {
        source: "Global",
        host: "mail",
        port: 587,
        tlsMode: "STARTTLS",
        timeoutSeconds: 10,
        fromAddress: "a@example.com",
        auth: { user: "u", pass: "p" },
      },
    });
  });

  it("names the missing ConfigMap, the bad keys and the missing Secret", () => {
    const missing = resolveSmtpSettings(input({ useGlobalSettings: true }, { globalConfigMap: null }));
    expect(missing).toEqual({
      ok: false,
      reason: "GlobalSettingsNotFound",
      message: "useGlobalSettings is true but the global settings ConfigMap ops/smtp does not exist",
    });
    const bad = resolveSmtpSettings(
      input({ useGlobalSettings: true }, { globalConfigMap: cm({ port: "x25", tlsMode: "SSL" }) }),
    );
    expect(!bad.ok && bad.message).toMatch(/port: must be a whole number.*tlsMode/);
    const noSecret = resolveSmtpSettings(
      input(
        { useGlobalSettings: true },
        { global: { ...global, secret: "smtp-creds" }, globalConfigMap: cm({}), globalSecret: null },
      ),
    );
    expect(!noSecret.ok && noSecret.message).toBe("the global credentials Secret ops/smtp-creds does not exist");
  });
});

describe("connectionSummary", () => {
  it("shows endpoint, TLS mode and source, never credentials", () => {
    const summary = connectionSummary({
      source: "Stage",
      host: "::1",
      port: 25,
      tlsMode: "None",
      timeoutSeconds: 10,
      fromAddress: "a@b.co",
      auth: { user: "u", pass: "hunter2" },
    });
    expect(summary).toEqual({ endpoint: "[::1]:25", tlsMode: "None", source: "Stage" });
  });
});
