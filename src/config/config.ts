// Operator configuration from flags and environment (options.ts lists them). A flag wins over
// its environment variable, which wins over the default. All problems are reported together,
// each naming the flag or variable it came from.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { LogLevel } from "../log/logger.ts";

/** Requests per second on average, `burst` at once. */
export interface Rate {
  perSecond: number;
  burst: number;
}
import { ENV_PREFIX, envName, isFlag, OPTIONS } from "./options.ts";
import type { Flag, Option, Values } from "./options.ts";

export interface OperatorConfig {
  /** Namespaces whose resources are reconciled; empty means the whole cluster. */
  namespaces: string[];
  /** The operator's own namespace: default home of the lease and the global settings. */
  operatorNamespace: string;
  globalSettings: { namespace: string; configMapName: string; credentialsSecretName: string };
  httpPort: number;
  api: {
    /** Secret in the operator namespace with tls.crt and tls.key; undefined serves plain HTTP (--insecure-http). */
    tlsSecretName: string | undefined;
    /** TokenReview audiences: a token for anything else (e.g. the API server) is refused. */
    tokenAudiences: string[];
    /** Reverse proxies trusted to name the client in X-Forwarded-For. */
    trustedProxies: string[];
    rates: {
      perAddress: Rate;
      perExecution: Rate;
      unauthenticated: Rate;
    };
  };
  /** Serves /healthz, /startz, /readyz and /metrics. */
  healthPort: number;
  leaderElection: {
    enabled: boolean;
    leaseName: string;
    leaseNamespace: string;
    identity: string;
    leaseDurationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  /** The leader's deletion of expired execution and counter Secrets in the operator's namespace. */
  sweeper: { batchSize: number; intervalMs: number };
  logLevel: LogLevel;
  /** How long reconciles in flight may take to finish on shutdown. */
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.problems = problems;
  }
}

/** Sources of the default leader-election identity, injectable for tests. */
export interface ConfigDeps {
  hostname?: () => string;
  randomSuffix?: () => string;
}

/** The audience applications request for tokens they send to the API (`kubectl create token --audience`). */
export const DEFAULT_TOKEN_AUDIENCE = "emailauth.dev/api";
export const DEFAULT_TLS_SECRET = "email-authenticator-api-tls";

/** Where the manifests and the Helm chart install the operator. */
export const DEFAULT_OPERATOR_NAMESPACE = "email-authenticator-system";

/**
 * EAO_* variables that are not options, most likely typos. Not an error, because dev tooling
 * shares the prefix; the caller logs them as a warning.
 */
export function unknownEnvironment(env: Readonly<Record<string, string | undefined>>): string[] {
  const known = new Set(Object.keys(OPTIONS).map(envName));
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !known.has(name))
    .sort();
}

export function parseConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  deps: ConfigDeps = {},
): OperatorConfig {
  const problems: string[] = [];
  const flags = readFlags(argv, problems);

  const values: Values = {};
  const sources: Partial<Record<Flag, string>> = {};
  for (const [flag, option] of Object.entries(OPTIONS) as [Flag, Option<unknown>][]) {
    const found = lookup(flag, option, flags, env);
    if (!found) continue;
    sources[flag] = found.source;
    const result = option.schema.safeParse(found.raw);
    if (result.success) (values as Record<Flag, unknown>)[flag] = result.data;
    else
      for (const issue of result.error.issues) problems.push(`${found.source}=${quote(found.raw)}: ${issue.message}`);
  }

  const name = (flag: Flag) => sources[flag] ?? `--${flag}`;
  const operatorNamespace = values["operator-namespace"] ?? DEFAULT_OPERATOR_NAMESPACE;
  const config: OperatorConfig = {
    namespaces: values.namespaces ?? [],
    operatorNamespace,
    globalSettings: {
      namespace: values["global-settings-namespace"] ?? operatorNamespace,
      configMapName: values["global-settings-configmap"] ?? "email-authenticator-global-settings",
      credentialsSecretName: values["global-credentials-secret"] ?? "",
    },
    httpPort: values["http-port"] ?? 8080,
    api: {
      tlsSecretName: values["insecure-http"] ? undefined : (values["tls-secret"] ?? DEFAULT_TLS_SECRET),
      tokenAudiences: values["token-audiences"] ?? [DEFAULT_TOKEN_AUDIENCE],
      trustedProxies: values["trusted-proxies"] ?? [],
      rates: {
        perAddress: values["rate-limit-per-address"] ?? { perSecond: 20, burst: 100 },
        perExecution: values["rate-limit-per-execution"] ?? { perSecond: 1, burst: 15 },
        unauthenticated: values["rate-limit-unauthenticated"] ?? { perSecond: 50, burst: 200 },
      },
    },
    healthPort: values["health-port"] ?? 8081,
    leaderElection: {
      enabled: values["leader-elect"] ?? true,
      leaseName: values["leader-elect-resource-name"] ?? "email-authenticator-operator",
      leaseNamespace: values["leader-elect-resource-namespace"] ?? operatorNamespace,
      identity:
        values["leader-elect-identity"] ??
        `${(deps.hostname ?? hostname)()}_${(deps.randomSuffix ?? (() => randomBytes(4).toString("hex")))()}`,
      leaseDurationMs: values["leader-elect-lease-duration"] ?? 15_000,
      renewDeadlineMs: values["leader-elect-renew-deadline"] ?? 10_000,
      retryPeriodMs: values["leader-elect-retry-period"] ?? 2_000,
    },
    sweeper: {
      batchSize: values["sweeper-batch-size"] ?? 100,
      intervalMs: values["sweeper-interval"] ?? 60_000,
    },
    logLevel: values["log-level"] ?? "info",
    shutdownTimeoutMs: values["shutdown-timeout"] ?? 30_000,
  };

  if (config.httpPort === config.healthPort && config.httpPort !== 0) {
    problems.push(`${name("http-port")} and ${name("health-port")} must differ (both are ${config.httpPort})`);
  }
  if (values["insecure-http"] && sources["tls-secret"]) {
    problems.push(`${name("insecure-http")} and ${name("tls-secret")} contradict each other; choose one`);
  }
  const le = config.leaderElection;
  const [lease, renew, retry] = [
    name("leader-elect-lease-duration"),
    name("leader-elect-renew-deadline"),
    name("leader-elect-retry-period"),
  ];
  // client-go's own checks: the lease outlives the renew deadline, which outlives a jittered retry.
  if (le.enabled && le.leaseDurationMs <= le.renewDeadlineMs) {
    problems.push(`${lease} (${le.leaseDurationMs}ms) must be longer than ${renew} (${le.renewDeadlineMs}ms)`);
  }
  if (le.enabled && le.renewDeadlineMs <= le.retryPeriodMs * 1.2) {
    problems.push(`${renew} (${le.renewDeadlineMs}ms) must be longer than 1.2 × ${retry} (${le.retryPeriodMs}ms)`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Collects `--flag=value`, `--flag value` and bare boolean flags. */
function readFlags(argv: readonly string[], problems: string[]): Map<Flag, string> {
  const flags = new Map<Flag, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--") || arg === "--") {
      problems.push(`unexpected argument ${quote(arg)}`);
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = arg.slice(2, eq < 0 ? undefined : eq);
    if (!isFlag(flag)) {
      problems.push(`unknown flag --${flag}`);
      continue;
    }
    let value = eq < 0 ? undefined : arg.slice(eq + 1);
    if (value === undefined && (OPTIONS[flag] as Option<unknown>).boolean) value = "true";
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) {
        problems.push(`--${flag} needs a value`);
        continue;
      }
      value = next;
      i++;
    }
    if (flags.has(flag)) problems.push(`--${flag} is given more than once`);
    flags.set(flag, value);
  }
  return flags;
}

function lookup(
  flag: Flag,
  option: Option<unknown>,
  flags: Map<Flag, string>,
  env: Readonly<Record<string, string | undefined>>,
): { raw: string; source: string } | undefined {
  const fromFlag = flags.get(flag);
  if (fromFlag !== undefined) return { raw: fromFlag, source: `--${flag}` };
  // An empty variable counts as unset: templates often render absent values that way.
  for (const name of [envName(flag), option.fallbackEnv]) {
    const raw = name ? env[name] : undefined;
    if (name && raw) return { raw, source: name };
  }
  return undefined;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}…` : s);
}
