// The Argo CD health check of docs/argocd/health.lua, run by gopher-lua (the Lua 5.1 interpreter
// Argo CD embeds, from the tools/lua Go module) on the statuses our controllers write and on
// edge cases, and compared with what Flux's kstatus concludes about the same objects.
// docs/gitops.md must carry the script verbatim for each of the three kinds.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load } from "js-yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { allKinds } from "../../src/kinds/v1alpha1/kinds.ts";
import { type Condition, type ConditionStatus, readinessConditions } from "@emailauth/operator-runtime";
import { computeKStatus, type KStatus, type KStatusObject } from "@emailauth/operator-runtime";
import { repoRoot } from "../harness/paths.ts";

const script = readFileSync(join(repoRoot, "docs", "argocd", "health.lua"), "utf8");

/** A JSON-like value as a Lua table constructor (null becomes nil, as Argo CD converts it). */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (typeof value === "boolean" || typeof value === "number") return String(value);
  if (typeof value === "string") return `"${value.replace(/[\\"]/g, "\\$&").replace(/\n/g, "\\n")}"`;
  if (Array.isArray(value)) return `{ ${value.map(toLua).join(", ")} }`;
  if (value instanceof Date) return toLua(value.toISOString());
  const entries = Object.entries(value as Record<string, unknown>).map(([k, v]) => `[${toLua(k)}] = ${toLua(v)}`);
  return `{ ${entries.join(", ")} }`;
}

interface Health {
  status: string;
  message: string;
}

/** Runs the script once per object, in one interpreter process, as Argo CD does: global `obj`, returned table. */
function health(objects: KStatusObject[]): Health[] {
  const dir = mkdtempSync(join(tmpdir(), "argocd-health-"));
  try {
    writeFileSync(join(dir, "health.lua"), script);
    const driver = [
      `local check = assert(loadfile(${toLua(join(dir, "health.lua"))}))`,
      ...objects
        .map((o) => `obj = ${toLua(o)}\nlocal hs = check()\nprint(hs.status .. "\\t" .. (hs.message or ""))`)
        .map((s) => `do\n${s}\nend`),
    ].join("\n");
    writeFileSync(join(dir, "driver.lua"), driver);
    const result = spawnSync("go", ["tool", "glua", join(dir, "driver.lua")], {
      cwd: join(repoRoot, "tools", "lua"),
      encoding: "utf8",
      env: { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=readonly -buildvcs=false" },
      timeout: 300_000,
    });
    if (result.status !== 0) throw new Error(`glua failed: ${result.stderr}${result.stdout}`);
    return result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => {
        const [status = "", message = ""] = line.split("\t");
        return { status, message };
      });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const now = new Date("2026-01-02T03:04:05Z");
const object = (
  generation: number,
  observedGeneration: number | undefined,
  conditions: Partial<Condition>[] | undefined,
): KStatusObject => ({
  kind: "EmailAuthenticatorStage",
  metadata: { generation },
  status:
    conditions === undefined && observedGeneration === undefined
      ? undefined
      : { observedGeneration, conditions: conditions as Condition[] },
});
const cond = (type: string, status: ConditionStatus, reason = "", message = "") => ({ type, status, reason, message });

/** [case, object, Argo CD health, Argo CD message, kstatus] */
const cases: [string, KStatusObject, string, string, KStatus][] = [
  [
    "ready (as the controllers write it)",
    object(
      3,
      3,
      readinessConditions(
        { generation: 3, ready: { reason: "Ready", message: "Sending through smtp.example.com:587" } },
        now,
      ),
    ),
    "Healthy",
    "Sending through smtp.example.com:587",
    "Current",
  ],
  [
    "stalled (as the controllers write it)",
    object(
      2,
      2,
      readinessConditions(
        { generation: 2, stalled: { reason: "SecretNotFound", message: 'Secret "smtp" not found' } },
        now,
      ),
    ),
    "Degraded",
    'Secret "smtp" not found',
    "Failed",
  ],
  [
    "reconciling (as the controllers write it)",
    object(
      1,
      1,
      readinessConditions(
        { generation: 1, reconciling: { reason: "CheckingConnection", message: "Connecting to the relay" } },
        now,
      ),
    ),
    "Progressing",
    "Connecting to the relay",
    "InProgress",
  ],
  [
    "ready, but for an older generation",
    object(4, 3, readinessConditions({ generation: 3, ready: { reason: "Ready", message: "ok" } }, now)),
    "Progressing",
    "Waiting for the operator to observe generation 4",
    "InProgress",
  ],
  [
    "being deleted",
    {
      ...object(1, 1, [cond("Ready", "True", "Ready", "ok")]),
      metadata: { generation: 1, deletionTimestamp: "2026-01-02T03:04:05Z" },
    },
    "Progressing",
    "Being deleted",
    "Terminating",
  ],
  [
    "Ready=False alone",
    object(1, 1, [cond("Ready", "False", "Pending", "Waiting for the stage")]),
    "Progressing",
    "Waiting for the stage",
    "InProgress",
  ],
  [
    "Ready=Unknown, reason but no message",
    object(1, 1, [cond("Ready", "Unknown", "Initializing")]),
    "Progressing",
    "Initializing",
    "InProgress",
  ],
  [
    "Reconciling=True listed before Stalled=True (the first one wins, as in kstatus)",
    object(1, 1, [cond("Reconciling", "True", "Retrying", "retry"), cond("Stalled", "True", "Bad", "bad")]),
    "Progressing",
    "retry",
    "InProgress",
  ],
  [
    "Stalled=True even with Ready=True",
    object(1, 1, [cond("Ready", "True", "Ready", "ok"), cond("Stalled", "True", "Bad", "bad")]),
    "Degraded",
    "bad",
    "Failed",
  ],
];

/** Stricter than kstatus on purpose: an object the operator has not reported on is not Healthy. */
const stricter: [string, KStatusObject, string, string][] = [
  ["no status at all", object(1, undefined, undefined), "Progressing", "Waiting for the operator to reconcile"],
  ["a status without conditions", object(1, 1, []), "Progressing", "Waiting for the operator to reconcile"],
];

const argoFor: Record<KStatus, string> = {
  Current: "Healthy",
  Failed: "Degraded",
  InProgress: "Progressing",
  Terminating: "Progressing",
};

// Go is a prerequisite of the whole suite (it builds the control plane), so this never skips.
describe("Argo CD health check (docs/argocd/health.lua)", () => {
  let results: Health[] = [];
  // The first run compiles gopher-lua into Go's build cache (seconds); later runs reuse it.
  beforeAll(() => {
    results = health([...cases.map((c) => c[1]), ...stricter.map((c) => c[1])]);
  }, 300_000);

  it.each(cases.map(([name, ...rest], i) => [`${name} → ${rest[1]}`, ...rest, i] as const))(
    "%s",
    (_, obj, status, message, kstatus, i) => {
      expect(results[i]).toEqual({ status, message });
      expect(computeKStatus(obj).status).toBe(kstatus);
      expect(status, "Argo CD and Flux agree").toBe(argoFor[kstatus]);
    },
  );

  it.each(
    stricter.map(
      ([name, ...rest], i) => [`${name} → ${rest[1]}, where kstatus says Current`, ...rest, cases.length + i] as const,
    ),
  )("%s", (_, obj, status, message, i) => {
    expect(results[i]).toEqual({ status, message });
    expect(computeKStatus(obj).status).toBe("Current");
  });
});

describe("docs/gitops.md", () => {
  const doc = readFileSync(join(repoRoot, "docs", "gitops.md"), "utf8");

  it("configures the health check of each kind in argocd-cm with the tested script", () => {
    const block = /```yaml\n(# argocd-cm[\s\S]*?)```/.exec(doc)?.[1];
    expect(block, "an argocd-cm yaml block").toBeDefined();
    const cm = load(block ?? "") as { data: Record<string, string> };
    for (const kind of allKinds) {
      expect(cm.data[`resource.customizations.health.emailauth.dev_${kind.kind}`], kind.kind).toBe(script);
    }
  });
});
