import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { UserConfig } from "./kube-config.ts";
import { credentialSource, pem, type RunExec, TOKEN_FILE_TTL_MS } from "./kube-credentials.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kube-credentials-test-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString("base64");

/** A fake plugin: records each run and answers with whatever `reply` returns. */
function fakeExec(reply: (run: number) => string | Promise<string>) {
  const runs: { command: string; args: readonly string[]; env: NodeJS.ProcessEnv }[] = [];
  const run: RunExec = async (command, args, env) => {
    runs.push({ command, args, env });
    return reply(runs.length);
  };
  return { run, runs };
}

const credential = (status: Record<string, unknown>) =>
  JSON.stringify({ apiVersion: "client.authentication.k8s.io/v1", kind: "ExecCredential", status });

describe("static credentials", () => {
  it("sends a bearer token", async () => {
    expect(await credentialSource({ token: "abc" }).get()).toEqual({ authorization: "Bearer abc" });
  });

  it("sends basic auth, with an empty password when none is given", async () => {
    expect(await credentialSource({ username: "u", password: "p:w" }).get()).toEqual({
      authorization: `Basic ${b64("u:p:w")}`,
    });
    expect(await credentialSource({ username: "u" }).get()).toEqual({ authorization: `Basic ${b64("u:")}` });
  });

  it("prefers a token over basic auth", async () => {
    expect(await credentialSource({ token: "t", username: "u", password: "p" }).get()).toEqual({
      authorization: "Bearer t",
    });
  });

  it("sends nothing for no user", async () => {
    expect(await credentialSource(null).get()).toEqual({});
    expect(await credentialSource({}).get()).toEqual({});
  });

  it("decodes a client certificate and key from data, or reads them from files", async () => {
    writeFileSync(join(dir, "me.crt"), "CERT FROM FILE");
    writeFileSync(join(dir, "me.key"), "KEY FROM FILE");
    expect(await credentialSource({ certData: b64("CERT"), keyData: b64("KEY") }).get()).toEqual({
      cert: "CERT",
      key: "KEY",
    });
    expect(
      await credentialSource({ certFile: join(dir, "me.crt"), keyFile: join(dir, "me.key"), token: "t" }).get(),
    ).toEqual({ cert: "CERT FROM FILE", key: "KEY FROM FILE", authorization: "Bearer t" });
  });

  it("lets inline data win over a file", async () => {
    writeFileSync(join(dir, "ca.crt"), "FILE");
    expect(pem(b64("DATA"), join(dir, "ca.crt"))).toBe("DATA");
    expect(pem(undefined, join(dir, "ca.crt"))).toBe("FILE");
    expect(pem(undefined, undefined)).toBeUndefined();
    // The file is never opened when data is there: a missing file is no error.
    expect(pem(b64("DATA"), join(dir, "missing"))).toBe("DATA");
    expect(
      await credentialSource({ certData: b64("C"), certFile: join(dir, "missing"), keyData: b64("K") }).get(),
    ).toEqual({ cert: "C", key: "K" });
  });

  it("refused() changes nothing for fixed credentials", async () => {
    const source = credentialSource({ token: "abc" });
    source.refused();
    expect(await source.get()).toEqual({ authorization: "Bearer abc" });
  });

  it("refuses an auth provider other than tokenFile", () => {
    expect(() => credentialSource({ authProvider: { name: "oidc", config: {} } })).toThrow(
      "auth provider oidc is not supported; use an exec plugin",
    );
    expect(() => credentialSource({ authProvider: { name: "tokenFile", config: {} } })).toThrow(/tokenFile/);
  });
});

describe("token file", () => {
  function tokenFileUser(path: string, extra: Partial<UserConfig> = {}): UserConfig {
    return { ...extra, authProvider: { name: "tokenFile", config: { tokenFile: path } } };
  }

  it("re-reads the file only once the TTL has passed", async () => {
    const path = join(dir, "token");
    writeFileSync(path, "one\n");
    let t = 1_000_000;
    const source = credentialSource(tokenFileUser(path), { now: () => t });
    expect(await source.get()).toEqual({ authorization: "Bearer one" });

    writeFileSync(path, "two\n");
    t += TOKEN_FILE_TTL_MS - 1;
    expect(await source.get()).toEqual({ authorization: "Bearer one" });
    t += 1;
    expect(await source.get()).toEqual({ authorization: "Bearer two" });

    // The TTL counts from the last read, not from the first.
    writeFileSync(path, "three");
    t += TOKEN_FILE_TTL_MS - 1;
    expect(await source.get()).toEqual({ authorization: "Bearer two" });
    t += 1;
    expect(await source.get()).toEqual({ authorization: "Bearer three" });
  });

  it("re-reads the file at once after the server refused the token", async () => {
    const path = join(dir, "token");
    writeFileSync(path, "old");
    const source = credentialSource(tokenFileUser(path), { now: () => 0 });
    expect(await source.get()).toEqual({ authorization: "Bearer old" });
    writeFileSync(path, "new");
    expect(await source.get()).toEqual({ authorization: "Bearer old" });
    source.refused();
    expect(await source.get()).toEqual({ authorization: "Bearer new" });
  });

  it("keeps a client certificate beside the token", async () => {
    const path = join(dir, "token");
    writeFileSync(path, "tok");
    const source = credentialSource(tokenFileUser(path, { certData: b64("C"), keyData: b64("K"), token: "ignored" }));
    expect(await source.get()).toEqual({ cert: "C", key: "K", authorization: "Bearer tok" });
  });

  it("rejects, never throws, when the file is missing at first read; later keeps the last good token", async () => {
    const path = join(dir, "token");
    let t = 0;
    const source = credentialSource(tokenFileUser(path), { now: () => t });
    let first: Promise<unknown> | undefined;
    expect(() => {
      first = source.get();
    }).not.toThrow();
    await expect(first).rejects.toThrow(/ENOENT/);

    writeFileSync(path, "good");
    expect(await source.get()).toEqual({ authorization: "Bearer good" });
    rmSync(path);
    t += TOKEN_FILE_TTL_MS;
    expect(await source.get()).toEqual({ authorization: "Bearer good" });
    t += TOKEN_FILE_TTL_MS;
    expect(await source.get()).toEqual({ authorization: "Bearer good" });
    // Once the file is back, its token is read on the next get().
    writeFileSync(path, "rotated");
    expect(await source.get()).toEqual({ authorization: "Bearer rotated" });
  });

  it("fails when the token file is missing", async () => {
    const source = credentialSource(tokenFileUser(join(dir, "missing")));
    await expect(async () => source.get()).rejects.toThrow(/ENOENT/);
  });
});

describe("exec plugin", () => {
  const execUser = (extra: Partial<UserConfig> = {}): UserConfig => ({
    exec: {
      command: "get-token",
      args: ["--cluster", "c1"],
      env: [{ name: "PLUGIN_MODE", value: "fast" }],
    },
    ...extra,
  });

  it("runs the command with its args, the environment, its env vars and KUBERNETES_EXEC_INFO", async () => {
    const fake = fakeExec(() => credential({ token: "exec-token" }));
    const source = credentialSource(execUser(), {
      runExec: fake.run,
      env: { PATH: "/bin", PLUGIN_MODE: "slow" },
    });
    expect(await source.get()).toEqual({ authorization: "Bearer exec-token" });
    expect(fake.runs).toHaveLength(1);
    const [run] = fake.runs;
    expect(run!.command).toBe("get-token");
    expect(run!.args).toEqual(["--cluster", "c1"]);
    expect(run!.env.PATH).toBe("/bin");
    // The kubeconfig's env overrides the inherited one.
    expect(run!.env.PLUGIN_MODE).toBe("fast");
    expect(JSON.parse(run!.env.KUBERNETES_EXEC_INFO!)).toEqual({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      spec: { interactive: false },
    });
  });

  it("passes the kubeconfig's apiVersion on to the plugin", async () => {
    const fake = fakeExec(() => credential({ token: "t" }));
    const user: UserConfig = { exec: { command: "p", apiVersion: "client.authentication.k8s.io/v1beta1" } };
    await credentialSource(user, { runExec: fake.run, env: {} }).get();
    expect(fake.runs[0]!.args).toEqual([]);
    expect(JSON.parse(fake.runs[0]!.env.KUBERNETES_EXEC_INFO!)).toMatchObject({
      apiVersion: "client.authentication.k8s.io/v1beta1",
    });
  });

  it("uses a client certificate and key from the plugin as PEM, over the kubeconfig's", async () => {
    const fake = fakeExec(() => credential({ clientCertificateData: "PLUGIN CERT", clientKeyData: "PLUGIN KEY" }));
    const user = execUser({ certData: b64("CONFIG CERT"), keyData: b64("CONFIG KEY") });
    expect(await credentialSource(user, { runExec: fake.run, env: {} }).get()).toEqual({
      cert: "PLUGIN CERT",
      key: "PLUGIN KEY",
    });
  });

  it("falls back to the kubeconfig's token when the plugin gives only a certificate", async () => {
    const fake = fakeExec(() => credential({ clientCertificateData: "C", clientKeyData: "K" }));
    expect(await credentialSource(execUser({ token: "static" }), { runExec: fake.run, env: {} }).get()).toEqual({
      cert: "C",
      key: "K",
      authorization: "Bearer static",
    });
  });

  it("caches the credential until ten seconds before its expiry", async () => {
    const expiry = Date.parse("2030-01-01T00:10:00Z");
    let t = Date.parse("2030-01-01T00:00:00Z");
    const fake = fakeExec((n) => credential({ token: `t${n}`, expirationTimestamp: "2030-01-01T00:10:00Z" }));
    const source = credentialSource(execUser(), { runExec: fake.run, env: {}, now: () => t });
    expect(await source.get()).toEqual({ authorization: "Bearer t1" });
    t = expiry - 10_001;
    expect(await source.get()).toEqual({ authorization: "Bearer t1" });
    expect(fake.runs).toHaveLength(1);
    t = expiry - 10_000;
    expect(await source.get()).toEqual({ authorization: "Bearer t2" });
    expect(fake.runs).toHaveLength(2);
  });

  it("caches a credential without an expiry until the server refuses it", async () => {
    let t = 0;
    const fake = fakeExec((n) => credential({ token: `t${n}` }));
    const source = credentialSource(execUser(), { runExec: fake.run, env: {}, now: () => t });
    await source.get();
    t = 365 * 24 * 3600 * 1000;
    expect(await source.get()).toEqual({ authorization: "Bearer t1" });
    expect(fake.runs).toHaveLength(1);
    source.refused();
    expect(await source.get()).toEqual({ authorization: "Bearer t2" });
    expect(await source.get()).toEqual({ authorization: "Bearer t2" });
    expect(fake.runs).toHaveLength(2);
  });

  it("runs the plugin once for concurrent requests", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fake = fakeExec(async (n) => {
      await gate;
      return credential({ token: `t${n}` });
    });
    const source = credentialSource(execUser(), { runExec: fake.run, env: {}, now: () => 0 });
    const pending = Array.from({ length: 5 }, () => source.get());
    release();
    const all = await Promise.all(pending);
    expect(all.map((c) => c.authorization)).toEqual(Array(5).fill("Bearer t1"));
    expect(fake.runs).toHaveLength(1);
  });

  it("runs again after a failed run instead of remembering the failure", async () => {
    const fake = fakeExec((n) => (n === 1 ? "not json" : credential({ token: "ok" })));
    const source = credentialSource(execUser(), { runExec: fake.run, env: {}, now: () => 0 });
    await expect(source.get()).rejects.toThrow("exec plugin get-token did not print an ExecCredential");
    expect(await source.get()).toEqual({ authorization: "Bearer ok" });
    expect(fake.runs).toHaveLength(2);
  });

  it("shares one failure between concurrent requests", async () => {
    const fake = fakeExec(() => Promise.reject(new Error("exec plugin get-token failed: no login")));
    const source = credentialSource(execUser(), { runExec: fake.run, env: {}, now: () => 0 });
    const results = await Promise.allSettled([source.get(), source.get(), source.get()]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
    expect(fake.runs).toHaveLength(1);
  });

  it("names the plugin when its output is not JSON or is null", async () => {
    for (const out of ["", "token: abc", "null"]) {
      const fake = fakeExec(() => out);
      const source = credentialSource(execUser(), { runExec: fake.run, env: {} });
      await expect(source.get()).rejects.toThrow("exec plugin get-token did not print an ExecCredential");
    }
  });

  it("refuses output without a usable credential, saying why, and caches nothing", async () => {
    const cases: [string, string][] = [
      ["{}", "no status"],
      ['{"kind":"ExecCredential"}', "no status"],
      ["42", "no status"],
      [credential({ clientCertificateData: "C" }), "neither a token nor a client certificate and key"],
      [credential({ token: "" }), "neither a token nor a client certificate and key"],
    ];
    for (const [out, why] of cases) {
      const fake = fakeExec((n) => (n === 1 ? out : credential({ token: "ok" })));
      const source = credentialSource(execUser(), { runExec: fake.run, env: {}, now: () => 0 });
      await expect(source.get(), out).rejects.toThrow(`exec plugin get-token did not print an ExecCredential: ${why}`);
      expect(await source.get(), out).toEqual({ authorization: "Bearer ok" });
      expect(fake.runs, out).toHaveLength(2);
    }
  });

  it("refuses an expirationTimestamp that is not a time, and caches nothing", async () => {
    const fake = fakeExec((n) =>
      n === 1 ? credential({ token: "t1", expirationTimestamp: "soon" }) : credential({ token: "t2" }),
    );
    const source = credentialSource(execUser(), { runExec: fake.run, env: {}, now: () => 0 });
    await expect(source.get()).rejects.toThrow(
      'exec plugin get-token did not print an ExecCredential: expirationTimestamp "soon" is not a time',
    );
    expect(await source.get()).toEqual({ authorization: "Bearer t2" });
    expect(fake.runs).toHaveLength(2);
  });

  it("runs a real plugin through the default runner", async () => {
    const script = join(dir, "plugin.sh");
    writeFileSync(
      script,
      [
        "#!/bin/sh",
        'case "$KUBERNETES_EXEC_INFO" in *ExecCredential*) ;; *) echo "no exec info" >&2; exit 3;; esac',
        `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s-%s"}}' "$1" "$PLUGIN_MODE"`,
        "",
      ].join("\n"),
    );
    chmodSync(script, 0o755);
    const user: UserConfig = { exec: { command: script, args: ["real"], env: [{ name: "PLUGIN_MODE", value: "sh" }] } };
    expect(await credentialSource(user, { env: { PATH: process.env.PATH } }).get()).toEqual({
      authorization: "Bearer real-sh",
    });

    const failing = join(dir, "failing.sh");
    writeFileSync(failing, "#!/bin/sh\necho 'please log in first' >&2\nexit 1\n");
    chmodSync(failing, 0o755);
    await expect(
      credentialSource({ exec: { command: failing } }, { env: { PATH: process.env.PATH } }).get(),
    ).rejects.toThrow(`exec plugin ${failing} failed: please log in first`);
  });
});
