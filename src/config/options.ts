// The options the operator accepts: one table gives each flag its zod schema, its help text
// and (by name) its environment variable, so parsing, errors and --help cannot drift apart.
import { z } from "zod";
import { isIP } from "node:net";
import { LOG_LEVELS } from "../log/logger.ts";

export const ENV_PREFIX = "EAO_";
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const NAMESPACE_RULE = "lowercase letters, digits and '-', at most 63";
const namespaceName = z.string().regex(DNS_LABEL, `must be a namespace name (${NAMESPACE_RULE})`);
const objectName = z
  .string()
  .max(253, "must be at most 253 characters")
  .regex(DNS_SUBDOMAIN, "must be a Kubernetes object name (lowercase letters, digits, '-' and '.')");
const namespaceList = z.string().transform((s, ctx) => {
  const items = [
    ...new Set(
      s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  ];
  for (const item of items.filter((x) => !DNS_LABEL.test(x))) {
    ctx.issues.push({ code: "custom", input: s, message: `"${item}" is not a namespace name (${NAMESPACE_RULE})` });
  }
  return items;
});
/** Token audiences are free-form strings (often URLs); a comma separates them. */
const audienceList = z.string().transform((s, ctx) => {
  const items = [
    ...new Set(
      s
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  ];
  if (items.length === 0) ctx.issues.push({ code: "custom", input: s, message: "must name at least one audience" });
  for (const item of items.filter((x) => !/^[!-~]{1,253}$/.test(x)))
    ctx.issues.push({ code: "custom", input: s, message: `"${item}" is not an audience (printable ASCII, no spaces)` });
  return items;
});
const proxyList = z.string().transform((s, ctx) => {
  const items = s
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  for (const item of items.filter((x) => !isAddressOrCidr(x)))
    ctx.issues.push({ code: "custom", input: s, message: `"${item}" is not an IP address or CIDR` });
  return items;
});
const RATE_MESSAGE = 'must be "<per second>/<burst>", such as "20/100" or "0.5/10"';
const rate = z.string().transform((s, ctx) => {
  const match = /^(\d+(?:\.\d+)?)\/(\d+)$/.exec(s.trim());
  const perSecond = Number(match?.[1]);
  const burst = Number(match?.[2]);
  if (!match || !(perSecond > 0) || !(burst >= 1)) {
    ctx.issues.push({ code: "custom", input: s, message: RATE_MESSAGE });
    return z.NEVER;
  }
  return { perSecond, burst };
});
const PORT_MESSAGE = "must be a port number from 0 (any free port) to 65535";
const port = z
  .string()
  .regex(/^\d{1,5}$/, PORT_MESSAGE)
  .transform(Number)
  // 0 asks the kernel for a free port (tests, local runs); the chosen one is logged.
  .refine((n) => n >= 0 && n <= 65535, PORT_MESSAGE);
const bool = z
  .enum(["true", "false", "1", "0"], { error: "must be true or false" })
  .transform((v) => v === "true" || v === "1");
const duration = z.string().transform((s, ctx) => {
  const ms = parseDuration(s);
  if (ms === undefined || ms <= 0) {
    ctx.issues.push({
      code: "custom",
      input: s,
      message: 'must be a positive duration such as "500ms", "15s" or "1m30s"',
    });
    return z.NEVER;
  }
  return ms;
});
const wholeNumber = (max: number) => {
  const message = `must be a whole number from 1 to ${max}`;
  return z
    .string()
    .regex(/^\d{1,9}$/, message)
    .transform(Number)
    .refine((n) => n >= 1 && n <= max, message);
};
const logLevel = z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(", ")}` });
const identity = z.string().trim().min(1, "must not be empty").max(253, "must be at most 253 characters");

export interface Option<T> {
  schema: z.ZodType<T>;
  help: string;
  /** Given bare (`--leader-elect`) it means true; a value needs `=`, as with Go's flags. */
  boolean?: true;
  /** Consulted after the option's own variable, e.g. the downward API's POD_NAMESPACE. */
  fallbackEnv?: string;
}

export const OPTIONS = {
  namespaces: {
    schema: namespaceList,
    help: "comma-separated namespaces to watch (default: the whole cluster)",
  },
  "operator-namespace": {
    schema: namespaceName,
    fallbackEnv: "POD_NAMESPACE",
    help: "the operator's namespace (default: $POD_NAMESPACE, else email-authenticator-system)",
  },
  "global-settings-namespace": {
    schema: namespaceName,
    help: "namespace of the global settings ConfigMap and Secret (default: operator namespace)",
  },
  "global-settings-configmap": {
    schema: objectName,
    help: "ConfigMap with global SMTP settings (default: email-authenticator-global-settings)",
  },
  "global-credentials-secret": {
    // Empty means the global relay takes no AUTH; a named Secret must then exist.
    schema: z.union([z.literal(""), objectName]),
    help: "Secret with global SMTP credentials, e.g. email-authenticator-global-credentials (default: none, no AUTH)",
  },
  "http-port": { schema: port, help: "port of the HTTP API (default: 8080)" },
  "tls-secret": {
    schema: objectName,
    help: "Secret in the operator namespace with the API's certificate (tls.crt, tls.key), reloaded when it changes (default: email-authenticator-api-tls)",
  },
  "insecure-http": {
    schema: bool,
    boolean: true,
    help: "serve the HTTP API over plain HTTP instead of TLS: local development only (default: false)",
  },
  "token-audiences": {
    schema: audienceList,
    help: "audiences an application's bearer token must be issued for, comma-separated (default: emailauth.dev/api)",
  },
  "rate-limit-per-address": {
    schema: rate,
    help: "requests per second/burst from one client address (an IPv6 /64), per replica (default: 20/100)",
  },
  "rate-limit-per-execution": {
    schema: rate,
    help: "requests per second/burst on one execution with one credential, per replica (default: 1/15)",
  },
  "rate-limit-unauthenticated": {
    schema: rate,
    help: "token reviews and unknown execution lookups per second/burst, all callers together, per replica (default: 50/200)",
  },
  "trusted-proxies": {
    schema: proxyList,
    help: "addresses or CIDRs of reverse proxies whose X-Forwarded-For names the client, for rate limits (default: none)",
  },
  "health-port": { schema: port, help: "port of /healthz, /startz, /readyz and /metrics (default: 8081)" },
  "leader-elect": {
    schema: bool,
    boolean: true,
    help: "elect a leader through a Lease before reconciling (default: true)",
  },
  "leader-elect-resource-name": {
    schema: objectName,
    help: "name of the Lease (default: email-authenticator-operator)",
  },
  "leader-elect-resource-namespace": {
    schema: namespaceName,
    help: "namespace of the Lease (default: operator namespace)",
  },
  "leader-elect-identity": {
    schema: identity,
    help: "this replica's holder identity (default: hostname plus a random suffix)",
  },
  "leader-elect-lease-duration": {
    schema: duration,
    help: "how long a lease is valid without renewal (default: 15s)",
  },
  "leader-elect-renew-deadline": {
    schema: duration,
    help: "how long the leader keeps retrying renewal before it steps down (default: 10s)",
  },
  "leader-elect-retry-period": {
    schema: duration,
    help: "wait between attempts to acquire or renew (default: 2s)",
  },
  "sweeper-batch-size": {
    schema: wholeNumber(10_000),
    help: "expired execution and counter Secrets the leader deletes per round; a round that deletes a full batch brings the next after a tenth of the interval (default: 100)",
  },
  "sweeper-interval": {
    schema: duration,
    help: "time between the leader's rounds of deleting expired Secrets (default: 1m)",
  },
  "log-level": { schema: logLevel, help: `one of ${LOG_LEVELS.join(", ")} (default: info)` },
  "shutdown-timeout": {
    schema: duration,
    help: "time reconciles in flight get to finish on shutdown (default: 30s)",
  },
} satisfies Record<string, Option<unknown>>;

export type Flag = keyof typeof OPTIONS;
export type Values = { [F in Flag]?: z.output<(typeof OPTIONS)[F]["schema"]> };

/** Environment variable of a flag: --http-port → EAO_HTTP_PORT. */
export function envName(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replaceAll("-", "_");
}

/** One line per option, for --help output and docs. */
export function usage(): string {
  return Object.entries(OPTIONS)
    .map(
      ([flag, o]: [string, Option<unknown>]) =>
        `  --${flag}${o.boolean ? "[=false]" : "=…"} (${envName(flag)})\n      ${o.help}`,
    )
    .join("\n");
}

export function isFlag(name: string): name is Flag {
  return Object.hasOwn(OPTIONS, name);
}

/** "10.0.0.1", "10.0.0.0/8", "fd00::/8". */
export function isAddressOrCidr(text: string): boolean {
  const [address = "", bits, ...rest] = text.split("/");
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

/** Go-style durations: "300ms", "1.5s", "2m", "1h30m". */
export function parseDuration(text: string): number | undefined {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  while (part.lastIndex < text.length) {
    const match = part.exec(text); // sticky: matches exactly at lastIndex or not at all
    if (!match) return undefined;
    total += Number(match[1]) * (units[match[2] ?? ""] ?? Number.NaN);
  }
  return text.length > 0 && Number.isFinite(total) ? Math.round(total) : undefined;
}
