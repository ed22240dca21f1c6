import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig, unknownEnvironment } from "./config.ts";

const deps = { hostname: () => "operator-7d9f", randomSuffix: () => "a1b2c3d4" };
const parse = (argv: string[] = [], env: Record<string, string | undefined> = {}) => parseConfig(argv, env, deps);

/** The problems a bad configuration reports. */
function problems(argv: string[], env: Record<string, string | undefined> = {}): readonly string[] {
  try {
    parse(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("parseConfig defaults", () => {
  it("fills in every default", () => {
    expect(parse()).toEqual({
      namespaces: [],
      operatorNamespace: "email-authenticator-system",
      globalSettings: {
        namespace: "email-authenticator-system",
        configMapName: "email-authenticator-global-settings",
        credentialsSecretName: "",
      },
      httpPort: 8080,
      api: {
        tlsSecretName: "email-authenticator-api-tls",
        tokenAudiences: ["emailauth.dev/api"],
        trustedProxies: [],
        rates: {
          perAddress: { perSecond: 20, burst: 100 },
          perExecution: { perSecond: 1, burst: 15 },
          unauthenticated: { perSecond: 50, burst: 200 },
        },
      },
      healthPort: 8081,
      leaderElection: {
        enabled: true,
        leaseName: "email-authenticator-operator",
        leaseNamespace: "email-authenticator-system",
        identity: "operator-7d9f_a1b2c3d4",
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      },
      sweeper: { batchSize: 100, intervalMs: 60_000 },
      logLevel: "info",
      shutdownTimeoutMs: 30_000,
    });
  });

  it("takes the operator namespace from POD_NAMESPACE and uses it for the lease and global settings", () => {
    const config = parse([], { POD_NAMESPACE: "auth-system" });
    expect([config.operatorNamespace, config.leaderElection.leaseNamespace, config.globalSettings.namespace]).toEqual([
      "auth-system",
      "auth-system",
      "auth-system",
    ]);
  });

  it("gives each replica a different default identity", () => {
    const a = parseConfig([], {}).leaderElection.identity;
    const b = parseConfig([], {}).leaderElection.identity;
    expect(a).not.toBe(b);
  });
});

describe("parseConfig sources", () => {
  it("prefers a flag over its variable, and the variable over the default", () => {
    const config = parse(["--http-port=9000"], { EAO_HTTP_PORT: "9100", EAO_HEALTH_PORT: "9101" });
    expect([config.httpPort, config.healthPort]).toEqual([9000, 9101]);
  });

  it("reads every option from flags, in both --flag=value and --flag value forms", () => {
    const config = parse([
      "--namespaces=team-a, team-b,,team-a",
      "--operator-namespace",
      "ops",
      "--global-settings-namespace=mail",
      "--global-settings-configmap=smtp.settings",
      "--global-credentials-secret=smtp-creds",
      "--http-port=18080",
      "--tls-secret",
      "api-cert",
      "--token-audiences=https://auth.example",
      "--trusted-proxies=10.1.0.0/16",
      "--rate-limit-per-address=0.5/10",
      "--rate-limit-per-execution",
      "2/4",
      "--rate-limit-unauthenticated=100/300",
      "--health-port=18081",
      "--leader-elect=false",
      "--leader-elect-resource-name=lock",
      "--leader-elect-resource-namespace=locks",
      "--leader-elect-identity=replica-1",
      "--leader-elect-lease-duration=1m",
      "--leader-elect-renew-deadline=45s",
      "--leader-elect-retry-period=1.5s",
      "--sweeper-batch-size=500",
      "--sweeper-interval=30s",
      "--log-level=debug",
      "--shutdown-timeout=1m30s",
    ]);
    expect(config).toEqual({
      namespaces: ["team-a", "team-b"],
      operatorNamespace: "ops",
      globalSettings: { namespace: "mail", configMapName: "smtp.settings", credentialsSecretName: "smtp-creds" },
      httpPort: 18080,
      api: {
        tlsSecretName: "api-cert",
        tokenAudiences: ["https://auth.example"],
        trustedProxies: ["10.1.0.0/16"],
        rates: {
          perAddress: { perSecond: 0.5, burst: 10 },
          perExecution: { perSecond: 2, burst: 4 },
          unauthenticated: { perSecond: 100, burst: 300 },
        },
      },
      healthPort: 18081,
      leaderElection: {
        enabled: false,
        leaseName: "lock",
        leaseNamespace: "locks",
        identity: "replica-1",
        leaseDurationMs: 60_000,
        renewDeadlineMs: 45_000,
        retryPeriodMs: 1_500,
      },
      sweeper: { batchSize: 500, intervalMs: 30_000 },
      logLevel: "debug",
      shutdownTimeoutMs: 90_000,
    });
  });

  it("reads variables named after the flags", () => {
    const config = parse([], {
      EAO_NAMESPACES: "x,y",
      EAO_LEADER_ELECT: "0",
      EAO_LOG_LEVEL: "warn",
      EAO_LEADER_ELECT_LEASE_DURATION: "20s",
    });
    expect(config.namespaces).toEqual(["x", "y"]);
    expect(config.leaderElection.enabled).toBe(false);
    expect(config.logLevel).toBe("warn");
    expect(config.leaderElection.leaseDurationMs).toBe(20_000);
  });

  it("treats a bare boolean flag as true and does not swallow the next argument", () => {
    const config = parse(["--leader-elect", "--http-port=1234"], { EAO_LEADER_ELECT: "false" });
    expect(config.leaderElection.enabled).toBe(true);
    expect(config.httpPort).toBe(1234);
  });

  it("treats an empty variable as unset, but an empty --namespaces= as the whole cluster", () => {
    expect(parse([], { EAO_HTTP_PORT: "", EAO_OPERATOR_NAMESPACE: "", POD_NAMESPACE: "p" })).toMatchObject({
      httpPort: 8080,
      operatorNamespace: "p",
    });
    expect(parse(["--namespaces="], { EAO_NAMESPACES: "a" }).namespaces).toEqual([]);
  });
});

describe("parseConfig errors", () => {
  it("lists every problem at once, naming the flag or variable and the value", () => {
    expect(
      problems(["--http-port=http", "--bogus=1", "serve", "--log-level", "--namespaces=ok,Not_OK"], {
        EAO_HEALTH_PORT: "70000",
        EAO_LEADER_ELECT: "yes",
        EAO_LEADER_ELECT_RETRY_PERIOD: "2",
      }),
    ).toEqual([
      "unknown flag --bogus",
      'unexpected argument "serve"',
      "--log-level needs a value",
      '--namespaces="ok,Not_OK": "Not_OK" is not a namespace name (lowercase letters, digits and \'-\', at most 63)',
      '--http-port="http": must be a port number from 0 (any free port) to 65535',
      'EAO_HEALTH_PORT="70000": must be a port number from 0 (any free port) to 65535',
      'EAO_LEADER_ELECT="yes": must be true or false',
      'EAO_LEADER_ELECT_RETRY_PERIOD="2": must be a positive duration such as "500ms", "15s" or "1m30s"',
    ]);
  });

  it("reports EAO_* variables that are not options, for a warning", () => {
    expect(
      unknownEnvironment({ EAO_NAMESPACE: "typo", EAO_HTTP_PORT: "1", EAO_DEV_DIR: "/tmp", HOME: "/root" }),
    ).toEqual(["EAO_DEV_DIR", "EAO_NAMESPACE"]);
    expect(parse([], { EAO_NAMESPACE: "typo" }).namespaces).toEqual([]);
  });

  it("puts all problems in the error message", () => {
    expect(() => parse(["--http-port=65536", "--log-level=loud"])).toThrow(
      /invalid configuration:\n {2}- --http-port="65536": must be a port number from 0 \(any free port\) to 65535\n {2}- --log-level="loud": must be one of fatal, error, warn, info, debug, trace, silent/,
    );
  });

  it("takes the sweeper's batch as a whole number from 1 to 10000", () => {
    const message = "must be a whole number from 1 to 10000";
    expect(problems(["--sweeper-batch-size=0", "--sweeper-interval=0s"], { EAO_SWEEPER_BATCH_SIZE: "20000" })).toEqual([
      `--sweeper-batch-size="0": ${message}`,
      '--sweeper-interval="0s": must be a positive duration such as "500ms", "15s" or "1m30s"',
    ]);
    for (const bad of ["1.5", "-3", "ten", "10001", "1e3"])
      expect(problems([`--sweeper-batch-size=${bad}`])).toEqual([`--sweeper-batch-size="${bad}": ${message}`]);
    expect(problems([], { EAO_SWEEPER_BATCH_SIZE: "20000" })).toEqual([`EAO_SWEEPER_BATCH_SIZE="20000": ${message}`]);
    expect(parse([], { EAO_SWEEPER_BATCH_SIZE: "10000" }).sweeper.batchSize).toBe(10_000);
  });

  it("rejects a repeated flag", () => {
    expect(problems(["--http-port=1", "--http-port=2"])).toEqual(["--http-port is given more than once"]);
  });

  it("rejects bad names and empty identities", () => {
    expect(
      problems(["--operator-namespace=Ops", "--global-settings-configmap=-bad", "--leader-elect-identity=  "]),
    ).toEqual([
      "--operator-namespace=\"Ops\": must be a namespace name (lowercase letters, digits and '-', at most 63)",
      "--global-settings-configmap=\"-bad\": must be a Kubernetes object name (lowercase letters, digits, '-' and '.')",
      '--leader-elect-identity="  ": must not be empty',
    ]);
  });

  it("requires distinct ports", () => {
    expect(problems([], { EAO_HTTP_PORT: "8081" })).toEqual([
      "EAO_HTTP_PORT and --health-port must differ (both are 8081)",
    ]);
  });

  it("serves TLS unless plain HTTP is asked for, and never both", () => {
    expect(parse(["--tls-secret=api-cert"]).api.tlsSecretName).toBe("api-cert");
    expect(parse(["--insecure-http"]).api.tlsSecretName).toBeUndefined();
    expect(problems(["--insecure-http", "--tls-secret=api-cert"])).toEqual([
      "--insecure-http and --tls-secret contradict each other; choose one",
    ]);
  });

  it("reads audiences and trusted proxies as lists and checks each item", () => {
    const config = parse(["--token-audiences=a, https://b.example ,a", "--trusted-proxies=10.0.0.0/8,fd00::1"]);
    expect(config.api.tokenAudiences).toEqual(["a", "https://b.example"]);
    expect(config.api.trustedProxies).toEqual(["10.0.0.0/8", "fd00::1"]);
    expect(problems(["--rate-limit-per-address=0/5", "--rate-limit-unauthenticated=fast"])).toEqual([
      '--rate-limit-per-address="0/5": must be "<per second>/<burst>", such as "20/100" or "0.5/10"',
      '--rate-limit-unauthenticated="fast": must be "<per second>/<burst>", such as "20/100" or "0.5/10"',
    ]);
    expect(problems(["--token-audiences=,", "--trusted-proxies=10.0.0.0/33,host"])).toEqual([
      '--token-audiences=",": must name at least one audience',
      '--trusted-proxies="10.0.0.0/33,host": "10.0.0.0/33" is not an IP address or CIDR',
      '--trusted-proxies="10.0.0.0/33,host": "host" is not an IP address or CIDR',
    ]);
  });

  it("checks lease timings like client-go, only when leader election is on", () => {
    expect(problems(["--leader-elect-lease-duration=10s"])).toEqual([
      "--leader-elect-lease-duration (10000ms) must be longer than --leader-elect-renew-deadline (10000ms)",
    ]);
    expect(problems(["--leader-elect-renew-deadline=2s"])).toEqual([
      "--leader-elect-renew-deadline (2000ms) must be longer than 1.2 × --leader-elect-retry-period (2000ms)",
    ]);
    expect(parse(["--leader-elect=false", "--leader-elect-lease-duration=1s"]).leaderElection.leaseDurationMs).toBe(
      1000,
    );
  });
});
