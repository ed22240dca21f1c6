// A real browser for the page tests: Debian's chromium driven by playwright-core, with axe-core
// injected for accessibility checks and screenshots at desktop and phone width. The browser is
// found or installed (apt-get, as root); anything else fails loudly: these tests never skip.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { repoRoot } from "./paths.ts";

export const CHROMIUM = "/usr/bin/chromium";
/**
 * docs/screenshots when asked (UPDATE_SCREENSHOTS=1), else a temporary directory: a page with a
 * countdown differs in every run, and a test run should not leave the tree changed.
 */
export const SCREENSHOTS_DIR = process.env.UPDATE_SCREENSHOTS
  ? join(repoRoot, "docs", "screenshots")
  : join(tmpdir(), "eao-screenshots");
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The chromium binary; installs Debian's package when it is missing and we are root. */
export function findChromium(progress: (m: string) => void = (m) => console.log(`browser: ${m}`)): string {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.getuid?.() !== 0)
    throw new Error(`${CHROMIUM} is missing and we are not root: install it with "apt-get install -y chromium"`);
  progress("chromium is missing; installing Debian's package (apt-get update && apt-get install -y chromium)");
  execFileSync("apt-get", ["update"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "--no-install-recommends", "chromium"], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium but ${CHROMIUM} is still missing`);
  return CHROMIUM;
}

export interface Browser {
  context: BrowserContext;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** A fresh profile each time, so no cookie or cache leaks between test files. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  const profile = mkdtempSync(join(tmpdir(), "eao-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: FLAGS,
    viewport: DESKTOP,
    locale: "en-US",
  });
  return {
    context,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * Runs axe-core (WCAG 2.x A and AA, best practices) on the page. Injected through the
 * DevTools protocol, which the page's CSP does not govern, so the CSP stays as served.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  // A string, evaluated in the page: this process has no DOM types.
  return page.evaluate<AxeViolation[]>(`(async () => {
    const r = await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  })()`);
}

/** A readable summary for an assertion message. */
export function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map(
      (v) =>
        `${v.id} (${v.impact}): ${v.help}\n${v.nodes.map((n) => `  ${n.target.join(" ")}: ${n.failureSummary ?? ""}`).join("\n")}`,
    )
    .join("\n");
}

/** docs/screenshots/<name>-desktop.png and -phone.png; the viewport is restored afterwards. */
export async function screenshots(page: Page, name: string): Promise<string[]> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  const before = page.viewportSize() ?? DESKTOP;
  const files: string[] = [];
  for (const [label, size] of [
    ["desktop", DESKTOP],
    ["phone", PHONE],
  ] as const) {
    await page.setViewportSize(size);
    const file = join(SCREENSHOTS_DIR, `${name}-${label}.png`);
    // Animations and the caret would make every run's PNG differ.
    await page.screenshot({ path: file, fullPage: true, animations: "disabled", caret: "hide" });
    files.push(file);
  }
  await page.setViewportSize(before);
  return files;
}

/** Collects CSP violations and script errors the page reports, so a test can assert none. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(e.message));
  return problems;
}
