// The operator process while it starts, with an API server it cannot reach (so its caches never
// sync): the health port answers, the startup probe's /startz passes once it has loaded, /readyz
// names what it waits for, and SIGTERM ends it at once instead of after the kubelet's grace period.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { waitFor } from "../harness/wait.ts";
import { repoRoot } from "../harness/paths.ts";

const UNREACHABLE = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`;

describe("operator process while it starts", () => {
  it("answers its probes while the caches cannot sync, and stops at once on SIGTERM", async () => {
    const kubeconfig = join(mkdtempSync(join(tmpdir(), "process-start-")), "kubeconfig");
    writeFileSync(kubeconfig, UNREACHABLE);
    const child = spawn(
      process.execPath,
      [join(repoRoot, "src", "main.ts"), "--health-port=0", "--http-port=0", "--insecure-http", "--leader-elect=false"],
      { env: { PATH: process.env.PATH ?? "", KUBECONFIG: kubeconfig }, stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const port = await waitFor(() => /"healthPort":(\d+)/.exec(output)?.[1], {
        what: "the health port in the log",
        timeoutMs: 30_000,
      });
      const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
      expect((await get("/healthz")).status).toBe(200);
      await waitFor(async () => ((await get("/startz")).status === 200 ? true : undefined), {
        what: "/startz once loaded",
        timeoutMs: 30_000,
      });
      const ready = await get("/readyz");
      expect(ready.status).toBe(503);
      expect(await ready.text()).toMatch(/^not ready: informer .*API serving certificate\n$/);

      const t0 = Date.now();
      child.kill("SIGTERM");
      expect(await exited, output).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(output).toContain('"msg":"stopped"');
      expect(output).not.toContain('"msg":"caches synced"');
    } finally {
      child.kill("SIGKILL");
    }
  }, 60_000);
});
