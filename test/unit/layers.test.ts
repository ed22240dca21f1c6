// The import graph keeps its layers: every folder under src/ and every module of the operator
// runtime package imports only from layers below its own, never from its own layer or above,
// so no cycle between folders is possible. The order is declared here, bottom to top; a folder
// or module that is not placed fails with a message saying where to place it. Tests beside the
// code follow the rules of the folder they sit in (they may also use test/ helpers).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../harness/paths.ts";

/** Folders of src/ (and src/main.ts as "main"), bottom to top; one layer's folders are independent. */
const SRC_LAYERS: readonly (readonly string[])[] = [
  ["kinds", "log", "i18n"], // vocabulary: the kinds' schemas, logging, message catalogues
  ["config", "k8s", "keyring"], // operator settings, our kinds' API coordinates, key Secrets
  ["email", "signing"], // mail: addresses, templates, SMTP; signed results
  ["stage", "hand-off"], // a stage's rules; launch tokens and returnTo
  ["flows", "devices"],
  ["executions"], // the domain: flow executions, codes, verification; knows nothing of HTTP
  ["http", "controllers"], // adapters: the HTTP API; reconcilers (independent of each other)
  ["pages"], // hosted pages
  ["operator"], // wiring: informers, controllers, API server, metrics
  ["main"], // the process
];

/** Modules of packages/operator-runtime/src (and its index.ts façade), bottom to top. */
const RUNTIME_LAYERS: readonly (readonly string[])[] = [
  ["clock", "backoff", "errors", "kube-types"], // time, retry pacing, error shapes, built-in objects
  ["sleep", "watchdog", "kube-config"], // waiting on the injected clock; where the API server is
  ["retry-transient", "kube-credentials"], // retrying a call; who we are to the API server
  ["objects", "resource", "decode", "conditions", "reconcile-result", "object-cache", "kube-client"], // vocabulary; HTTP
  ["kube-api"], // the API calls, over the client
  ["kstatus", "list-watch", "informer-store", "lease-record", "workqueue", "status-writer", "finalizers", "events"],
  ["event-handlers", "guarded-watch", "lease-lock", "reference-tracker", "informer-options"],
  ["informer", "controller", "leader", "health-server"],
  ["index"], // the façade
];

const RUNTIME = join(repoRoot, "packages", "operator-runtime");
const SRC = join(repoRoot, "src");
const THIS_FILE = "test/unit/layers.test.ts";

interface Import {
  /** Path of the importing file, relative to the repository. */
  readonly file: string;
  readonly specifier: string;
  /** Absolute path for relative specifiers, undefined for packages. */
  readonly target: string | undefined;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts") && !f.split(sep).includes("node_modules"))
    .map((f) => join(dir, f));
}

function importsOf(file: string): Import[] {
  const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return info.importedFiles.map(({ fileName }) => ({
    file: relative(repoRoot, file),
    specifier: fileName,
    target: fileName.startsWith(".") ? resolve(dirname(file), fileName) : undefined,
  }));
}

const isTest = (file: string): boolean => file.endsWith(".test.ts");

/** "email" for src/email/…, "main" for src/main.ts; undefined outside src/. */
function srcUnit(path: string): string | undefined {
  const rel = relative(SRC, path);
  if (rel.startsWith("..") || rel === "") return undefined;
  const [first = ""] = rel.split(sep);
  return first.endsWith(".ts") ? first.slice(0, -3) : first;
}

/** "informer" for packages/operator-runtime/src/informer.ts (and informer.test.ts), "index" for index.ts. */
function runtimeModule(path: string): string | undefined {
  const rel = relative(RUNTIME, path);
  if (rel === "index.ts") return "index";
  if (!rel.startsWith(`src${sep}`)) return undefined;
  return rel.slice(4).replace(/(\.test)?\.ts$/, "");
}

function rankOf(layers: readonly (readonly string[])[]): Map<string, number> {
  return new Map(layers.flatMap((names, rank) => names.map((n) => [n, rank] as const)));
}

/** Units that no layer places, with what they import and what imports them, for the message. */
function unplaced(
  units: Iterable<string>,
  rank: Map<string, number>,
  edges: readonly (readonly [string, string])[],
  what: string,
  list: string,
): string[] {
  return [...new Set(units)]
    .filter((u) => !rank.has(u))
    .sort()
    .map((u) => {
      const uses = [...new Set(edges.filter(([a, b]) => a === u && b !== u).map(([, b]) => b))].sort();
      const usedBy = [...new Set(edges.filter(([a, b]) => b === u && a !== u).map(([a]) => a))].sort();
      return (
        `${what} "${u}" is not in ${list} in ${THIS_FILE}: add it to the layer it belongs to ` +
        `(above everything it imports: [${uses.join(", ")}]; below everything that imports it: [${usedBy.join(", ")}])`
      );
    });
}

/** Cycles between units (strongly connected components of more than one unit), for a clearer report. */
function cycles(edges: readonly (readonly [string, string])[]): string[][] {
  const next = new Map<string, Set<string>>();
  for (const [a, b] of edges) if (a !== b) next.set(a, (next.get(a) ?? new Set()).add(b));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w !== undefined) scc.push(w);
      } while (w !== undefined && w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe("the layers of src/", () => {
  const files = tsFiles(SRC);
  const imports = files.flatMap(importsOf);
  const rank = rankOf(SRC_LAYERS);
  const edges = imports.flatMap((i) => {
    const from = srcUnit(join(repoRoot, i.file));
    const to = i.target && srcUnit(i.target);
    return from && to && from !== to ? [[from, to] as const] : [];
  });

  it("places every folder in the declared order", () => {
    const units = files.map((f) => srcUnit(f)).filter((u): u is string => u !== undefined);
    expect(unplaced(units, rank, edges, "src folder", "SRC_LAYERS")).toEqual([]);
  });

  it("has no cycle between folders", () => {
    expect(cycles(edges).map((c) => c.join(" ↔ "))).toEqual([]);
  });

  it("imports only from lower layers", () => {
    const violations = imports.flatMap((i) => {
      const from = srcUnit(join(repoRoot, i.file));
      const to = i.target && srcUnit(i.target);
      if (!from || !to || from === to) return [];
      const [a, b] = [rank.get(from), rank.get(to)];
      if (a === undefined || b === undefined || b < a) return [];
      const why = a === b ? "the same layer" : "a higher layer";
      return [`${i.file} imports ${i.specifier} (${from} → ${to}: ${why})`];
    });
    expect(violations).toEqual([]);
  });

  it("imports at run time only the packages it depends on (tests may use devDependencies)", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const violations = imports.flatMap((i) => {
      if (i.target || i.specifier.startsWith("node:") || isTest(i.file) || i.file.includes(`${sep}testing${sep}`))
        return [];
      const name = i.specifier.startsWith("@")
        ? i.specifier.split("/").slice(0, 2).join("/")
        : (i.specifier.split("/")[0] ?? "");
      return name in pkg.dependencies ? [] : [`${i.file} imports ${i.specifier}, not a dependency in package.json`];
    });
    expect(violations).toEqual([]);
  });

  it("reaches outside src/ only through packages (tests may use test/ helpers)", () => {
    const violations = imports.flatMap((i) => {
      if (!i.target || srcUnit(i.target) !== undefined) return [];
      const intoTest = !relative(join(repoRoot, "test"), i.target).startsWith("..");
      if (isTest(i.file) && intoTest) return [];
      return [`${i.file} imports ${i.specifier}, outside src/`];
    });
    expect(violations).toEqual([]);
  });
});

describe("the operator runtime package", () => {
  const files = tsFiles(RUNTIME);
  const imports = files.flatMap(importsOf);
  const rank = rankOf(RUNTIME_LAYERS);
  const pkg = JSON.parse(readFileSync(join(RUNTIME, "package.json"), "utf8")) as {
    name: string;
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  // Its own name too: the examples import the package as a user would.
  const declared = new Set([
    pkg.name,
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.peerDependencies ?? {}),
  ]);
  const library = files.filter((f) => !relative(RUNTIME, f).startsWith(`examples${sep}`));
  const edges = imports.flatMap((i) => {
    const from = runtimeModule(join(repoRoot, i.file));
    const to = i.target && runtimeModule(i.target);
    return from && to && from !== to ? [[from, to] as const] : [];
  });

  it("imports nothing from the application, and only packages it declares", () => {
    const violations = imports.flatMap((i) => {
      if (i.target) {
        const inside = !relative(RUNTIME, i.target).startsWith("..");
        return inside ? [] : [`${i.file} imports ${i.specifier}, outside the package`];
      }
      if (i.specifier.startsWith("node:")) return [];
      const name = i.specifier.startsWith("@")
        ? i.specifier.split("/").slice(0, 2).join("/")
        : (i.specifier.split("/")[0] ?? "");
      if (declared.has(name) || (isTest(i.file) && name === "vitest")) return [];
      return [`${i.file} imports ${i.specifier}, not declared in packages/operator-runtime/package.json`];
    });
    expect(violations).toEqual([]);
  });

  it("places every module in the declared order", () => {
    const units = library.map((f) => runtimeModule(f)).filter((u): u is string => u !== undefined);
    expect(unplaced(units, rank, edges, "runtime module", "RUNTIME_LAYERS")).toEqual([]);
  });

  it("imports only from lower layers within the package", () => {
    expect(cycles(edges).map((c) => c.join(" ↔ "))).toEqual([]);
    const violations = imports.flatMap((i) => {
      const from = runtimeModule(join(repoRoot, i.file));
      const to = i.target && runtimeModule(i.target);
      if (!from || !to || from === to) return [];
      const [a, b] = [rank.get(from), rank.get(to)];
      if (a === undefined || b === undefined || b < a) return [];
      return [`${i.file} imports ${i.specifier} (${from} → ${to}: ${a === b ? "the same" : "a higher"} layer)`];
    });
    expect(violations).toEqual([]);
  });

  it("is used by the application only through its façade", () => {
    const exports = (JSON.parse(readFileSync(join(RUNTIME, "package.json"), "utf8")) as { exports: object }).exports;
    const outside = [...tsFiles(SRC), ...tsFiles(join(repoRoot, "test")), ...tsFiles(join(repoRoot, "scripts"))];
    const violations = outside.flatMap(importsOf).flatMap((i) => {
      const inside = i.target === undefined ? ".." : relative(RUNTIME, i.target);
      const reachesIn = !inside.startsWith("..") && !inside.startsWith(`examples${sep}`); // examples run in tests
      // Besides the façade, only the subpaths the package exports (the health server alone).
      const subpath =
        i.specifier.startsWith("@emailauth/operator-runtime/") &&
        !(`.${i.specifier.slice("@emailauth/operator-runtime".length)}` in exports);
      return reachesIn || subpath ? [`${i.file} imports ${i.specifier}; use "@emailauth/operator-runtime"`] : [];
    });
    expect(violations).toEqual([]);
  });
});

describe("the layering checks themselves", () => {
  it("find a cycle and name an unplaced folder with its neighbours", () => {
    expect(
      cycles([
        ["a", "b"],
        ["b", "c"],
        ["c", "a"],
        ["c", "d"],
      ] as const),
    ).toEqual([["a", "b", "c"]]);
    const message = unplaced(["x", "new"], new Map([["x", 0]]), [["new", "x"]], "src folder", "SRC_LAYERS");
    expect(message).toHaveLength(1);
    expect(message[0]).toMatch(/"new" is not in SRC_LAYERS .*above everything it imports: \[x\]/);
  });
});
