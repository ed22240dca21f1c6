// The operator process: configuration, logging, the Kubernetes client, then the Operator.
// Leader election decides when the controllers run; every replica serves health and the API.
// Only what the health server needs is imported up front; the rest is imported once the probes get
// answers, so no probe meets a closed port however slowly a cold start loads it.
import { startHealthServer } from "@emailauth/operator-runtime/health";
import { ConfigError, parseConfig, unknownEnvironment } from "./config/config.ts";
import { usage } from "./config/options.ts";
import { createLogger } from "./log/logger.ts";

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(
      "email-authenticator-operator: reconciles EmailAuthenticatorStage, FlowBinding and EmailDevice and\n" +
        "serves the HTTP API. Every option is a flag or its environment variable (a flag wins).\n\n" +
        `Usage: node src/main.ts [--option=value …]   (in the image: <image> [--option=value …])\n\nOptions:\n${usage()}\n`,
    );
    return 0;
  }
  let config;
  try {
    config = parseConfig(argv, process.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`${e.message}\n\nOptions:\n${usage()}\n`);
    return 2;
  }
  const log = createLogger({ level: config.logLevel });
  const unknown = unknownEnvironment(process.env);
  if (unknown.length) log.warn({ variables: unknown }, "ignoring unknown EAO_* environment variables");

  const health = await startHealthServer({ port: config.healthPort });
  log.info({ healthPort: health.port, startupMs: Math.round(process.uptime() * 1000) }, "health endpoints listening");
  const [{ Operator }, { startLeaderElection }, { startApiServer }, { KubeClient, loadKubeConfig, systemClock }] =
    await Promise.all([
      import("./operator/operator.ts"),
      import("./operator/leadership.ts"),
      import("./operator/api-server.ts"),
      import("@emailauth/operator-runtime"),
    ]);

  // One client, so one pool of connections, for every API request.
  const kube = new KubeClient(loadKubeConfig(), { userAgent: "email-authenticator-operator" });
  const operator = new Operator({ config, kube, log });
  health.serveMetrics(operator.metrics.registry);
  let apiReady = (): boolean => false; // until the API server listens with its certificate
  health.addReadinessCheck(...operator.readinessChecks(), { name: "API serving certificate", ready: () => apiReady() });
  // Loaded: the startup probe passes, and readiness follows the checks from here.
  health.started();
  log.info({ startupMs: Math.round(process.uptime() * 1000) }, "started");

  let exitCode = 0;
  let leadershipLost: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    const stop = (reason: string, code: number) => {
      exitCode = code;
      log.info({ reason }, "shutting down");
      resolve();
    };
    process.once("SIGTERM", () => stop("SIGTERM", 0));
    process.once("SIGINT", () => stop("SIGINT", 0));
    leadershipLost = () => stop("lost leadership", 1);
  });

  const serve = async () => {
    const api = await startApiServer({
      kube,
      config,
      log,
      clock: systemClock,
      metrics: operator.metrics,
      caches: operator.caches,
    });
    apiReady = () => api.ready();
    log.info({ startupMs: Math.round(process.uptime() * 1000) }, "serving");
    const leadership = config.leaderElection.enabled
      ? startLeaderElection({ kube, config: config.leaderElection, log, operator, onLost: () => leadershipLost() })
      : undefined;
    if (!leadership) operator.startLeading();
    return { api, leadership };
  };

  // A signal while the caches still sync (the API server out of reach) ends the start instead of
  // waiting for it; otherwise the Pod would ignore SIGTERM until the kubelet kills it.
  const synced = await Promise.race([operator.start().then(() => true), stopped.then(() => false)]);
  const serving = synced ? await serve() : undefined;

  await stopped;
  // Order matters: controllers drain first, then the lease goes so a successor starts at once.
  await operator.stopLeading();
  await serving?.leadership?.release();
  await serving?.api.close();
  await operator.stop();
  await health.close();
  kube.close();
  log.info("stopped");
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`fatal: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
