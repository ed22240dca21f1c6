// `npm run dev` end to end: it brings up the control plane and Mailpit with the examples
// applied, writes a usable env file, and a Ctrl-C leaves no process behind.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { processes } from "../harness/leftovers.ts";
import { repoRoot, tool } from "../harness/paths.ts";
import { isRunning } from "../harness/processes.ts";
import { waitFor } from "../harness/wait.ts";

const dir = mkdtempSync(join(tmpdir(), "eao-dev-test-"));
let dev: ChildProcess | undefined;
let output = "";

afterAll(() => {
  if (dev?.exitCode === null) dev.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function readEnv(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of readFileSync(file, "utf8").matchAll(/^export (\w+)=(.*)$/gm))
    env[match[1] ?? ""] = match[2] ?? "";
  return env;
}

describe("npm run dev", () => {
  it("starts everything, writes .dev/env and stops cleanly on Ctrl-C", { timeout: 180_000 }, async () => {
    dev = spawn(process.execPath, [join(repoRoot, "test", "dev", "main.ts")], {
      env: { ...process.env, EAO_DEV_DIR: dir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    dev.stdout?.on("data", (d: Buffer) => (output += d.toString()));
    dev.stderr?.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => dev?.once("exit", (code) => r(code)));
    const envFile = join(dir, "env");
    await waitFor(() => (existsSync(envFile) ? true : undefined), {
      what: "the dev stack's env file",
      timeoutMs: 150_000,
      intervalMs: 250,
      failFast: () => (dev?.exitCode !== null ? new Error(`dev exited early:\n${output}`) : undefined),
    });

    const env = readEnv(envFile);
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining(["KUBECONFIG", "MAILPIT_URL", "SMTP_ADDRESS", "OPERATOR_URL", "OPERATOR_HEALTH_URL"]),
    );
    const stages = execFileSync(tool("kubectl"), ["get", "eas", "-A"], {
      env: { ...process.env, KUBECONFIG: env.KUBECONFIG },
      encoding: "utf8",
    });
    expect(stages).toMatch(/default\s+email-setup\s/);
    expect((await fetch(`${env.MAILPIT_URL}/api/v1/info`)).ok).toBe(true);
    expect((await fetch(`${env.OPERATOR_HEALTH_URL}/readyz`)).ok).toBe(true);
    // The operator reconciles the examples: the stage on the global settings (Mailpit) is Ready.
    await waitFor(
      () => {
        const out = execFileSync(
          tool("kubectl"),
          [
            "get",
            "eas",
            "email-setup",
            "-n",
            "default",
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
          ],
          {
            env: { ...process.env, KUBECONFIG: env.KUBECONFIG },
            encoding: "utf8",
          },
        );
        return out === "True" ? true : undefined;
      },
      { what: "the example stage to be Ready", timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(output).toMatch(/Mailpit\s+http:\/\/127\.0\.0\.1:\d+/);

    // The printed walk-through runs a whole flow: start, code from Mailpit, verify, device.
    const walk = execFileSync("bash", [join(repoRoot, "test", "dev", "walkthrough.sh")], {
      env: { ...process.env, ...env, PATH: `${env.PATH?.split(":")[0] ?? ""}:${process.env.PATH ?? ""}` },
      encoding: "utf8",
    });
    expect(walk).toMatch(/verified: .*"state":"completed"/);
    expect(walk).toMatch(/walkthrough-\d+-[0-9a-f]+|email-setup-[0-9a-f]{20}/);
    expect(output).toContain("bash test/dev/walkthrough.sh");

    const children = processes().filter((p) => p.ppid === dev?.pid);
    const names = children.map((p) => (p.cmdline.includes("src/main.ts") ? "operator" : basename(p.exe)));
    expect(names.sort()).toEqual(["etcd", "kube-apiserver", "mailpit", "operator"]);

    dev.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(children.filter((p) => isRunning(p.pid))).toEqual([]);
    expect(existsSync(envFile)).toBe(false);
    expect(output).toMatch(/stopped; nothing left running/);
  });
});
