// `npm run dev:cluster` prints the walk-through of `npm run dev`; here its stack is installed on
// the node and the walk-through script runs against it as a developer would: start the enroll
// flow with curl, read the code from Mailpit, verify, see the device.
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, toolsBin } from "../harness/paths.ts";
import { type DevClusterStack, installDevStack } from "../dev/cluster-stack.ts";
import { walkthroughSteps } from "../dev/walkthrough-text.ts";
import { helm, kubectl, skipReason, timed } from "./support/cluster.ts";
import { OPERATOR_NS, RELEASE, removeEverything } from "./support/operator.ts";

if (skipReason) console.log(`dev-cluster: skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)("the dev:cluster stack", () => {
  let stack: DevClusterStack | undefined;

  beforeAll(
    () =>
      timed("dev-cluster: install", async () => {
        stack = await installDevStack(kubectl, mkdtempSync(join(tmpdir(), "dev-cluster-")), (m) =>
          console.log(`dev-cluster: ${m}`),
        );
      }),
    300_000,
  );

  afterAll(
    () =>
      timed("dev-cluster: clean-up", () => {
        stack?.stop();
        kubectl([
          "delete",
          "emaildevices,flowbindings,emailauthenticatorstages",
          "--all",
          "-A",
          "--wait=true",
          "--timeout=60s",
        ]);
        helm(["uninstall", RELEASE, "-n", OPERATOR_NS, "--wait", "--timeout", "180s"]);
        removeEverything();
      }),
    300_000,
  );

  it("runs the walk-through it prints, to a confirmed device", () => {
    expect(walkthroughSteps()).toContain("kubectl create token sign-in-app");
    const out = execFileSync("bash", [join(repoRoot, "test", "dev", "walkthrough.sh")], {
      encoding: "utf8",
      env: { ...process.env, ...stack?.env, PATH: `${toolsBin}:${process.env.PATH ?? ""}` },
      timeout: 60_000,
    });
    expect(out).toMatch(/verified: .*"state":"completed"/);
  });
});
