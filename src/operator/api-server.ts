// The embedded HTTP API on every replica: the execution service over the informer caches and
// the Secret store, behind Express. Started once the caches have synced.
import { coreApi, customObjectsApi, type KubeClient, type KubernetesObject } from "@emailauth/operator-runtime";
import type { Logger } from "pino";
import type { OperatorConfig } from "../config/config.ts";
import type { UserDevices } from "../devices/devices.ts";
import { Mailer } from "../email/mailer.ts";
import { CodeKey, CodeKeys } from "../executions/hmac-key.ts";
import { watchCodeKeys } from "./code-keys-watch.ts";
import { ExecutionRecords } from "../executions/execution-records.ts";
import { SendTiming } from "../executions/sender.ts";
import { ExecutionService } from "../executions/service.ts";
import { Throttles } from "../executions/throttle.ts";
import type { FlowBindings } from "../flows/flow.ts";
import { createApp } from "../http/app.ts";
import { kubernetesAccessReviewer } from "../http/auth.ts";
import { executionApi } from "../http/executions.ts";
import { StageDirectory } from "../stage/stage-directory.ts";
import { createApiListener } from "../http/tls-server.ts";
import { RateLimits } from "../http/rate-limits.ts";
import { HostedPages } from "./hosted-pages.ts";
import { watchServingCertificate } from "./serving-certificate.ts";
import type { CustomObject } from "@emailauth/operator-runtime";
import type { Clock } from "@emailauth/operator-runtime";
import type { OperatorMetrics } from "./metrics.ts";
import { sendFailureEvents } from "./send-failure-events.ts";
import type { ObjectCache, ReferenceTracker } from "@emailauth/operator-runtime";

export interface ApiServerOptions {
  kube: KubeClient;
  config: OperatorConfig;
  log: Logger;
  clock: Clock;
  metrics: OperatorMetrics;
  caches: {
    stages: ObjectCache<CustomObject>;
    /** A flow's bindings and a user's devices, from the indexes kept over the caches. */
    flowBindings: FlowBindings;
    userDevices: UserDevices;
    /** The referenced Secrets and ConfigMaps, watched once for the reconciler and the API. */
    references: ReferenceTracker<KubernetesObject>;
  };
}

export interface RunningApiServer {
  port: number;
  /** "https" unless --insecure-http. */
  scheme: "http" | "https";
  /** False while TLS waits for its first certificate. */
  ready(): boolean;
  close(): Promise<void>;
}

export async function startApiServer(o: ApiServerOptions): Promise<RunningApiServer> {
  const { kube, config, log, clock } = o;
  const core = coreApi(kube);
  // The counter key names throttle counters and is never rotated; the code keyring MACs codes.
  const codeKey = new CodeKey(core, config.operatorNamespace);
  const codeKeys = new CodeKeys({
    core,
    namespace: config.operatorNamespace,
    clock,
    warn: (message) => log.warn({ component: "code-keys" }, message),
  });
  // Both loaded (or created) before the first request, so a missing grant fails at start, loudly.
  const key = await codeKey.get();
  await codeKeys.get();
  const keyWatch = watchCodeKeys({ kube, log, clock, metrics: o.metrics }, config.operatorNamespace, codeKeys);
  const mailer = new Mailer();
  // One reviewer, so the app and the service share its short-lived cache of answers.
  const limits = new RateLimits({
    ...config.api.rates,
    trustedProxies: config.api.trustedProxies,
    clock,
    metrics: o.metrics,
  });
  const access = kubernetesAccessReviewer(kube, clock, {
    audiences: config.api.tokenAudiences,
    beforeTokenReview: () => limits.unauthenticatedWork(),
  });
  // The hosted pages sign results with keys of their own keyring Secret.
  const pages = new HostedPages({
    core,
    operatorNamespace: config.operatorNamespace,
    stages: o.caches.stages,
    bindings: o.caches.flowBindings,
    clock,
    log,
    secure: config.api.tlsSecretName !== undefined,
  });
  const service = new ExecutionService({
    custom: customObjectsApi(kube),
    access,
    stages: new StageDirectory({
      stages: o.caches.stages,
      references: o.caches.references,
      global: {
        namespace: config.globalSettings.namespace,
        configMap: config.globalSettings.configMapName,
        secret: config.globalSettings.credentialsSecretName,
      },
    }),
    bindings: o.caches.flowBindings,
    devices: o.caches.userDevices,
    // Records and counters live in the operator's namespace: it writes Secrets nowhere else.
    store: new ExecutionRecords(core, clock, config.operatorNamespace),
    throttles: new Throttles(core, clock, key, { namespace: config.operatorNamespace }),
    key: (forMac) => codeKeys.get(forMac),
    mailer,
    signResult: pages.signResult,
    failures: sendFailureEvents(kube, {
      component: "emailauth.dev/operator",
      instance: config.leaderElection.identity,
      clock,
      log,
    }),
    timing: new SendTiming(),
    metrics: o.metrics,
    clock,
    log: log.child({ component: "api" }),
  });
  const app = createApp({
    executions: executionApi(service, clock, { publicUrl: pages.publicUrl }),
    access,
    log,
    limits,
    trustedProxies: config.api.trustedProxies,
  });
  const tlsSecret = config.api.tlsSecretName;
  const listener = createApiListener(pages.mount(app, service, [limits.perAddress]), tlsSecret !== undefined);
  const server = listener.server;
  const certificate = tlsSecret
    ? watchServingCertificate({
        kube,
        log,
        clock,
        metrics: o.metrics,
        namespace: config.operatorNamespace,
        name: tlsSecret,
        listener,
        onLoaded: (notAfter) => o.metrics.onServingCertificate(notAfter),
      })
    : undefined;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.httpPort, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : config.httpPort;
  log.info({ port, tls: listener.tls }, listener.tls ? "HTTP API listening (TLS)" : "HTTP API listening (plain HTTP)");
  return {
    port,
    scheme: listener.tls ? "https" : "http",
    ready: () => certificate?.ready() ?? true,
    close: async () => {
      await certificate?.stop();
      await keyWatch.stop();
      await listener.close();
      mailer.close();
    },
  };
}
