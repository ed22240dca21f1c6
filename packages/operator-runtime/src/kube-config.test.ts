import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, isAbsolute, join, relative } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KubeConfigError, loadInCluster, loadKubeConfig, loadKubeConfigFile, parseKubeConfig } from "./kube-config.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kube-config-test-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A kubeconfig with two contexts on two clusters; `current` picks one. */
function twoContexts(current: string): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Config",
    "current-context": current,
    contexts: [
      { name: "dev", context: { cluster: "dev-cluster", user: "dev-user", namespace: "dev-ns" } },
      { name: "prod", context: { cluster: "prod-cluster", user: "prod-user" } },
    ],
    clusters: [
      { name: "dev-cluster", cluster: { server: "https://dev.example:6443/" } },
      { name: "prod-cluster", cluster: { server: "https://prod.example:443" } },
    ],
    users: [
      { name: "dev-user", user: { token: "dev-token" } },
      { name: "prod-user", user: { username: "admin", password: "pw" } },
    ],
  };
}

function failure(fn: () => unknown): KubeConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(KubeConfigError);
    return e as KubeConfigError;
  }
  throw new Error("expected a KubeConfigError, nothing was thrown");
}

describe("parseKubeConfig", () => {
  it("takes the current context's cluster, user and namespace, dropping a trailing slash from the server", () => {
    const dev = parseKubeConfig(twoContexts("dev"), dir);
    expect(dev.cluster).toMatchObject({
      name: "dev-cluster",
      server: "https://dev.example:6443",
      skipTLSVerify: false,
    });
    expect(dev.user).toMatchObject({ name: "dev-user", token: "dev-token" });
    expect(dev.namespace).toBe("dev-ns");
    expect(dev.getCurrentCluster()).toBe(dev.cluster);
    expect(dev.getCurrentUser()).toBe(dev.user);

    const prod = parseKubeConfig(twoContexts("prod"), dir);
    expect(prod.cluster).toMatchObject({ name: "prod-cluster", server: "https://prod.example:443" });
    expect(prod.user).toMatchObject({ name: "prod-user", username: "admin", password: "pw" });
    expect(prod.user.token).toBeUndefined();
    expect(prod.namespace).toBeUndefined();
  });

  it("names the source and what is missing when the context, cluster or server cannot be found", () => {
    const noCurrent = { ...twoContexts("dev"), "current-context": "" };
    expect(failure(() => parseKubeConfig(noCurrent, dir, "/x/config")).message).toBe(
      "/x/config: current-context is not set",
    );
    expect(failure(() => parseKubeConfig(twoContexts("staging"), dir)).message).toBe(
      "kubeconfig: context staging not found",
    );

    const noClusterField = twoContexts("dev");
    noClusterField.contexts = [{ name: "dev", context: { user: "dev-user" } }];
    expect(failure(() => parseKubeConfig(noClusterField, dir)).message).toBe(
      "kubeconfig: context dev names no cluster",
    );

    const unknownCluster = twoContexts("dev");
    unknownCluster.clusters = [{ name: "other", cluster: { server: "https://o" } }];
    expect(failure(() => parseKubeConfig(unknownCluster, dir)).message).toBe(
      "kubeconfig: cluster dev-cluster not found",
    );

    const noServer = twoContexts("dev");
    noServer.clusters = [{ name: "dev-cluster", cluster: { "insecure-skip-tls-verify": true } }];
    expect(failure(() => parseKubeConfig(noServer, dir)).message).toBe("kubeconfig: cluster dev-cluster has no server");
  });

  it("refuses a document that is not a mapping", () => {
    expect(failure(() => parseKubeConfig(["a"], dir)).message).toBe("kubeconfig: not a mapping");
    expect(failure(() => parseKubeConfig(null, dir)).message).toBe("kubeconfig: not a mapping");
  });

  it("resolves relative certificate-authority, client-certificate, client-key and tokenFile paths against the base dir", () => {
    const doc = {
      "current-context": "c",
      contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
      clusters: [{ name: "k", cluster: { server: "https://k", "certificate-authority": "pki/ca.crt" } }],
      users: [
        {
          name: "u",
          user: { "client-certificate": "pki/me.crt", "client-key": "/abs/me.key", tokenFile: "../tok/token" },
        },
      ],
    };
    const config = parseKubeConfig(doc, "/etc/kube");
    expect(config.cluster.caFile).toBe("/etc/kube/pki/ca.crt");
    expect(config.user.certFile).toBe("/etc/kube/pki/me.crt");
    expect(config.user.keyFile).toBe("/abs/me.key");
    expect(config.user.authProvider).toEqual({ name: "tokenFile", config: { tokenFile: "/etc/tok/token" } });
  });

  it("keeps inline data beside file paths, and reads insecure-skip-tls-verify, tls-server-name and proxy-url", () => {
    const doc = {
      "current-context": "c",
      contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
      clusters: [
        {
          name: "k",
          cluster: {
            server: "https://k",
            "certificate-authority-data": "Q0E=",
            "certificate-authority": "ca.crt",
            "insecure-skip-tls-verify": true,
            "tls-server-name": "api.internal",
            "proxy-url": "http://proxy:3128",
          },
        },
      ],
      users: [{ name: "u", user: { "client-certificate-data": "Q0VSVA==", "client-key-data": "S0VZ" } }],
    };
    const config = parseKubeConfig(doc, "/base");
    expect(config.cluster).toMatchObject({
      caData: "Q0E=",
      caFile: "/base/ca.crt",
      skipTLSVerify: true,
      tlsServerName: "api.internal",
      proxyUrl: "http://proxy:3128",
    });
    expect(config.user).toMatchObject({ certData: "Q0VSVA==", keyData: "S0VZ" });
    expect(config.user.authProvider).toBeUndefined();
    expect(config.user.exec).toBeUndefined();
  });

  it("only a boolean true turns TLS verification off", () => {
    const doc = twoContexts("dev");
    doc.clusters = [{ name: "dev-cluster", cluster: { server: "https://d", "insecure-skip-tls-verify": "true" } }];
    expect(parseKubeConfig(doc, dir).cluster.skipTLSVerify).toBe(false);
  });

  it("refuses an auth-provider user, naming it and pointing at exec plugins", () => {
    const doc = twoContexts("dev");
    doc.users = [{ name: "dev-user", user: { "auth-provider": { name: "gcp", config: { "access-token": "x" } } } }];
    const err = failure(() => parseKubeConfig(doc, dir));
    expect(err.message).toBe("kubeconfig: user dev-user: auth-provider gcp is not supported; use an exec plugin");
    expect(err.message).not.toContain("access-token");
  });

  it("reads an exec plugin's command, args, env and apiVersion", () => {
    const doc = twoContexts("dev");
    doc.users = [
      {
        name: "dev-user",
        user: {
          exec: {
            apiVersion: "client.authentication.k8s.io/v1beta1",
            command: "aws",
            args: ["eks", "get-token", 7],
            env: [{ name: "AWS_PROFILE", value: "ops" }, "junk"],
          },
        },
      },
    ];
    expect(parseKubeConfig(doc, dir).user.exec).toEqual({
      command: "aws",
      args: ["eks", "get-token", "7"],
      env: [{ name: "AWS_PROFILE", value: "ops" }],
      apiVersion: "client.authentication.k8s.io/v1beta1",
    });

    doc.users = [{ name: "dev-user", user: { exec: { args: ["x"] } } }];
    expect(failure(() => parseKubeConfig(doc, dir)).message).toBe("kubeconfig: user dev-user: exec has no command");
  });

  it("refuses a context naming a user that is not in the file, rather than going anonymous", () => {
    const doc = twoContexts("dev");
    doc.contexts = [{ name: "dev", context: { cluster: "dev-cluster", user: "typo" } }];
    expect(failure(() => parseKubeConfig(doc, dir, "/x/config")).message).toBe("/x/config: user typo not found");
  });

  it("resolves an exec command with a path against the base dir, keeping a bare name and an absolute path", () => {
    const withCommand = (command: string) => {
      const doc = twoContexts("dev");
      doc.users = [{ name: "dev-user", user: { exec: { command } } }];
      return parseKubeConfig(doc, "/etc/kube").user.exec?.command;
    };
    expect(withCommand("./bin/plugin")).toBe("/etc/kube/bin/plugin");
    expect(withCommand("bin/plugin")).toBe("/etc/kube/bin/plugin");
    expect(withCommand("../tools/plugin")).toBe("/etc/tools/plugin");
    // A bare name is looked up in PATH when run, so it must not gain a directory.
    expect(withCommand("gke-gcloud-auth-plugin")).toBe("gke-gcloud-auth-plugin");
    expect(withCommand("/usr/local/bin/aws")).toBe("/usr/local/bin/aws");
  });

  it("a context without a user gives an anonymous user", () => {
    const doc = twoContexts("dev");
    doc.contexts = [{ name: "dev", context: { cluster: "dev-cluster" } }];
    const config = parseKubeConfig(doc, dir);
    expect(config.user.token).toBeUndefined();
    expect(config.user.username).toBeUndefined();
    expect(config.user.exec).toBeUndefined();
  });
});

describe("loadKubeConfigFile", () => {
  it("parses YAML and resolves relative paths against the file's own directory", () => {
    const sub = join(dir, "cfg");
    mkdirSync(sub);
    const path = join(sub, "config");
    writeFileSync(
      path,
      [
        "apiVersion: v1",
        "kind: Config",
        "current-context: local",
        "contexts:",
        "- name: local",
        "  context: {cluster: local, user: me, namespace: team-a}",
        "clusters:",
        "- name: local",
        "  cluster:",
        "    server: https://127.0.0.1:6443",
        "    certificate-authority: ca.crt",
        "users:",
        "- name: me",
        "  user:",
        "    client-certificate: certs/me.crt",
        "    client-key: certs/me.key",
        "    tokenFile: token",
        "",
      ].join("\n"),
    );
    const config = loadKubeConfigFile(path);
    expect(config.cluster.server).toBe("https://127.0.0.1:6443");
    expect(config.cluster.caFile).toBe(join(sub, "ca.crt"));
    expect(config.user.certFile).toBe(join(sub, "certs", "me.crt"));
    expect(config.user.keyFile).toBe(join(sub, "certs", "me.key"));
    expect(config.user.authProvider?.config).toEqual({ tokenFile: join(sub, "token") });
    expect(config.namespace).toBe("team-a");
  });

  it("given a relative path, resolves the file's relative references to absolute paths from the working directory", () => {
    const sub = join(dir, "rel");
    mkdirSync(sub);
    const path = join(sub, "config");
    writeFileSync(
      path,
      JSON.stringify({
        "current-context": "c",
        contexts: [{ name: "c", context: { cluster: "k", user: "u" } }],
        clusters: [{ name: "k", cluster: { server: "https://k", "certificate-authority": "ca.crt" } }],
        users: [{ name: "u", user: { tokenFile: "token", exec: { command: "./plugin" } } }],
      }),
    );
    const rel = relative(process.cwd(), path);
    expect(isAbsolute(rel)).toBe(false);
    const config = loadKubeConfigFile(rel);
    expect(config.cluster.caFile).toBe(join(sub, "ca.crt"));
    expect(config.user.authProvider?.config).toEqual({ tokenFile: join(sub, "token") });
    expect(config.user.exec?.command).toBe(join(sub, "plugin"));
  });

  it("names the file when it is missing or not YAML, and in parse errors", () => {
    const missing = join(dir, "nope");
    const err = failure(() => loadKubeConfigFile(missing));
    expect(err.message).toMatch(new RegExp(`^cannot read kubeconfig ${missing}: .*ENOENT`));

    const bad = join(dir, "bad");
    writeFileSync(bad, "clusters: [unclosed\n");
    expect(failure(() => loadKubeConfigFile(bad)).message).toMatch(/^cannot read kubeconfig .*bad: /);

    const empty = join(dir, "empty");
    writeFileSync(empty, "");
    expect(failure(() => loadKubeConfigFile(empty)).message).toMatch(/^cannot read kubeconfig .*empty: .*empty/);

    const scalar = join(dir, "scalar");
    writeFileSync(scalar, "just text\n");
    expect(failure(() => loadKubeConfigFile(scalar)).message).toBe(`${scalar}: not a mapping`);
  });
});

describe("loadKubeConfig", () => {
  function writeConfig(path: string, server: string): void {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(
      path,
      JSON.stringify({
        "current-context": "c",
        contexts: [{ name: "c", context: { cluster: "k" } }],
        clusters: [{ name: "k", cluster: { server } }],
      }),
    );
  }

  it("uses the first file in $KUBECONFIG before ~/.kube/config", () => {
    const home = join(dir, "home");
    writeConfig(join(home, ".kube", "config"), "https://home");
    writeConfig(join(dir, "a"), "https://a");
    writeConfig(join(dir, "b"), "https://b");
    const env = { KUBECONFIG: [join(dir, "a"), join(dir, "b")].join(delimiter) };
    expect(loadKubeConfig({ env, home }).cluster.server).toBe("https://a");
    // Empty entries are skipped, as by client-go.
    const leadingEmpty = { KUBECONFIG: `${delimiter}${join(dir, "b")}` };
    expect(loadKubeConfig({ env: leadingEmpty, home }).cluster.server).toBe("https://b");
  });

  it("falls back to ~/.kube/config when $KUBECONFIG is unset or empty", () => {
    const home = join(dir, "home");
    writeConfig(join(home, ".kube", "config"), "https://home");
    expect(loadKubeConfig({ env: {}, home }).cluster.server).toBe("https://home");
    expect(loadKubeConfig({ env: { KUBECONFIG: "" }, home }).cluster.server).toBe("https://home");
  });

  it("falls back to the service account when there is no kubeconfig", () => {
    const sa = join(dir, "sa");
    mkdirSync(sa);
    writeFileSync(join(sa, "token"), "t");
    const env = { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" };
    const config = loadKubeConfig({ env, home: join(dir, "empty-home"), serviceAccountDir: sa });
    expect(config.cluster.server).toBe("https://10.0.0.1:443");
  });

  it("says where it looked when nothing is configured", () => {
    const err = failure(() =>
      loadKubeConfig({ env: {}, home: join(dir, "empty-home"), serviceAccountDir: join(dir, "no-sa") }),
    );
    expect(err.message).toMatch(/KUBECONFIG.*~\/\.kube\/config.*service account/);
  });
});

describe("loadInCluster", () => {
  function serviceAccount(files: Record<string, string>): string {
    const sa = join(dir, "serviceaccount");
    mkdirSync(sa, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(sa, name), content);
    return sa;
  }

  it("builds the server URL from the service environment, with the token file and CA from the account dir", () => {
    const sa = serviceAccount({ token: "tok", "ca.crt": "CA", namespace: "operators\n" });
    const config = loadInCluster({
      env: { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" },
      serviceAccountDir: sa,
    });
    expect(config.cluster).toMatchObject({ server: "https://10.96.0.1:443", caFile: join(sa, "ca.crt") });
    expect(config.user.authProvider).toEqual({ name: "tokenFile", config: { tokenFile: join(sa, "token") } });
    expect(config.namespace).toBe("operators");
  });

  it("brackets an IPv6 host", () => {
    const sa = serviceAccount({ token: "tok" });
    const config = loadInCluster({
      env: { KUBERNETES_SERVICE_HOST: "fd00:10:96::1", KUBERNETES_SERVICE_PORT: "6443" },
      serviceAccountDir: sa,
    });
    expect(config.cluster.server).toBe("https://[fd00:10:96::1]:6443");
    expect(config.namespace).toBeUndefined();
  });

  it("refuses without a token file or without the service environment", () => {
    const env = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
    const noToken = serviceAccount({ namespace: "x" });
    expect(failure(() => loadInCluster({ env, serviceAccountDir: noToken })).message).toMatch(
      /^no Kubernetes configuration/,
    );
    writeFileSync(join(noToken, "token"), "tok");
    expect(() => loadInCluster({ env, serviceAccountDir: noToken })).not.toThrow();
    failure(() => loadInCluster({ env: { KUBERNETES_SERVICE_HOST: "10.96.0.1" }, serviceAccountDir: noToken }));
    failure(() => loadInCluster({ env: { KUBERNETES_SERVICE_PORT: "443" }, serviceAccountDir: noToken }));
  });
});
