// API requests as the API server counts them: `apiserver_request_total` from its /metrics, by
// verb, resource (and subresource) and response code. Leases (leader election), WATCH (counted
// when a watch ends, not per flow) and non-resource paths (/metrics itself) are left out.
import { type RequestOptions, request } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

/** `VERB resource[/subresource] code` → requests. */
export type RequestTotals = Map<string, number>;

const EXCLUDED_RESOURCES = new Set(["leases", ""]);
const WRITE_VERBS = new Set(["POST", "PUT", "PATCH", "DELETE", "APPLY", "DELETECOLLECTION"]);
/** Answered by the API server without storing anything. */
const REVIEWS = new Set([
  "tokenreviews",
  "subjectaccessreviews",
  "selfsubjectaccessreviews",
  "localsubjectaccessreviews",
  "selfsubjectreviews",
]);

export function parseRequestTotals(text: string): RequestTotals {
  const totals: RequestTotals = new Map();
  for (const line of text.split("\n")) {
    if (!line.startsWith("apiserver_request_total{")) continue;
    const close = line.lastIndexOf("}");
    const labels = Object.fromEntries(
      [...line.slice(line.indexOf("{") + 1, close).matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    ) as Record<string, string | undefined>;
    const resource = labels.resource ?? "";
    const verb = labels.verb ?? "";
    if (EXCLUDED_RESOURCES.has(resource) || verb === "WATCH") continue;
    const key = `${verb} ${resource}${labels.subresource ? `/${labels.subresource}` : ""} ${labels.code ?? ""}`;
    totals.set(key, (totals.get(key) ?? 0) + Number(line.slice(close + 1).trim()));
  }
  return totals;
}

export function difference(after: RequestTotals, before: RequestTotals): RequestTotals {
  const delta: RequestTotals = new Map();
  for (const [key, n] of after) {
    const d = n - (before.get(key) ?? 0);
    if (d > 0) delta.set(key, d);
  }
  return delta;
}

export interface RequestSummary {
  requests: number;
  /** Mutating requests on stored objects (reviews are POSTs that store nothing). */
  writes: number;
  notFound: number;
  conflicts: number;
  /** Every key with its count, largest first. */
  breakdown: [string, number][];
}

export function summarize(delta: RequestTotals): RequestSummary {
  let requests = 0;
  let writes = 0;
  let notFound = 0;
  let conflicts = 0;
  for (const [key, n] of delta) {
    const [verb = "", resource = "", code = ""] = key.split(" ");
    requests += n;
    if (WRITE_VERBS.has(verb) && !REVIEWS.has(resource.split("/")[0] ?? "")) writes += n;
    if (code === "404") notFound += n;
    if (code === "409") conflicts += n;
  }
  const breakdown = [...delta].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { requests, writes, notFound, conflicts, breakdown };
}

/** The API server's /metrics, read with the admin identity. */
export async function scrapeMetrics(kc: KubeConfig): Promise<string> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("the kubeconfig names no server");
  const options: RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = request(`${server}/metrics`, { ...options, timeout: 10_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`GET /metrics: ${res.statusCode}`)),
      );
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("GET /metrics timed out")));
    req.end();
  });
}

export const requestTotals = async (kc: KubeConfig): Promise<RequestTotals> =>
  parseRequestTotals(await scrapeMetrics(kc));

/**
 * Waits until the counters stop moving (the reconcilers have caught up with what the flows
 * did) and returns them. `quietMs` without a change counts as settled.
 */
export async function settledTotals(kc: KubeConfig, quietMs = 1500, timeoutMs = 30_000): Promise<RequestTotals> {
  const deadline = Date.now() + timeoutMs;
  let last = await requestTotals(kc);
  let lastChange = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await requestTotals(kc);
    if (difference(now, last).size > 0) {
      last = now;
      lastChange = Date.now();
    } else if (Date.now() - lastChange >= quietMs || Date.now() > deadline) {
      return now;
    }
  }
}
