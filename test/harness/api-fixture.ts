// The operator and its HTTP API in this test process, against the shared real control plane
// and a real Mailpit, under the operator's least-privilege identity. In-process so the API's
// clock can be moved (code expiry, cooldowns) and its logs read; informers keep real time.
import { Writable } from "node:stream";
import { CoreV1Api, CustomObjectsApi, type KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import { parseConfig } from "../../src/config/config.ts";
import { createLogger } from "../../src/log/logger.ts";
import { startApiServer } from "../../src/operator/api-server.ts";
import { Operator } from "../../src/operator/operator.ts";
import { type Clock, KubeClient, systemClock } from "@emailauth/operator-runtime";
import { controlPlane, createTestNamespace, grantOperatorNamespace } from "./context.ts";
import { untilAllowed } from "./until-allowed.ts";
import { serviceAccountToken } from "./controlplane.ts";
import { Mailpit, type MailMessage } from "./mailpit.ts";
import { objects, readyIs } from "./objects.ts";
import { type OperatorProcess, startOperator } from "./operator-process.ts";

/** Real time plus an offset that tests move forward. */
export class OffsetClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  after(ms: number, fn: () => void) {
    return systemClock.after(ms, fn);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}

export interface ApiResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

export interface ApiFixture {
  ns: string;
  admin: KubeConfig;
  mailpit: Mailpit;
  clock: OffsetClock;
  logs: () => string;
  /** Token of an application allowed to execute every flow in the namespace. */
  appToken: string;
  /** Another token of that application, new to every cache (its review is done afresh). */
  newAppToken(): Promise<string>;
  call(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<ApiResponse>;
  /** Creates a ServiceAccount and returns its token (no grants). */
  serviceAccount(name: string): Promise<string>;
  k: ReturnType<typeof objects>;
  /** Base URL of the HTTP API, for requests `call` cannot shape (no Content-Type, raw bytes). */
  url?: string;
  /** The in-process operator's metrics in the Prometheus text format (its own registry). */
  metrics?: () => Promise<string>;
  stop(): Promise<void>;
}

export interface ApiFixtureOptions {
  /** More operator flags. Without --tls-secret the API serves plain HTTP (--insecure-http). */
  args?: string[];
}

export async function startApiFixture(prefix: string, options: ApiFixtureOptions = {}): Promise<ApiFixture> {
  const plane = controlPlane();
  const admin = plane.admin();
  const ns = await createTestNamespace(admin, prefix);
  await grantOperatorNamespace(admin, ns);
  const mailpit = await Mailpit.start();
  const core = admin.makeApiClient(CoreV1Api);
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: {
      metadata: { name: "smtp" },
      data: { host: "127.0.0.1", port: String(mailpit.smtpPort), fromAddress: "codes@example.com" },
    },
  });

  let logText = "";
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  const log = createLogger({ level: "debug", destination });
  const config = parseConfig(
    [
      `--namespaces=${ns}`,
      `--global-settings-namespace=${ns}`,
      "--global-settings-configmap=smtp",
      "--health-port=0",
      "--http-port=0",
      "--leader-elect=false",
      ...(options.args?.some((a) => a.startsWith("--tls-secret")) ? [] : ["--insecure-http"]),
      ...(options.args ?? []),
    ],
    {},
  );
  const kube = new KubeClient(plane.operator());
  const clock = new OffsetClock();
  const operator = new Operator({ config, kube, log });
  await operator.start();
  operator.startLeading();
  const api = await startApiServer({ kube, config, log, clock, metrics: operator.metrics, caches: operator.caches });

  /** A new token for a ServiceAccount of the namespace, for the API's audiences. */
  const tokenFor = (name: string) => serviceAccountToken(admin, ns, name, undefined, config.api.tokenAudiences);
  const serviceAccount = async (name: string) => {
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name } } });
    return tokenFor(name);
  };
  const appToken = await serviceAccount("app");
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({
    namespace: ns,
    body: {
      metadata: { name: "run-flows" },
      rules: [{ apiGroups: [GROUP], resources: ["flows"], verbs: ["execute"] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace: ns,
    body: {
      metadata: { name: "app-runs-flows" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "run-flows" },
      subjects: [{ kind: "ServiceAccount", name: "app", namespace: ns }],
    },
  });
  await untilAllowed(admin, `system:serviceaccount:${ns}:app`, {
    namespace: ns,
    verb: "execute",
    group: GROUP,
    resource: "flows",
  });

  const call: ApiFixture["call"] = async (method, path, body, token, headers = {}) => {
    const res = await fetch(`${api.scheme}://127.0.0.1:${api.port}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      headers: res.headers,
    };
  };

  return {
    ns,
    admin,
    mailpit,
    clock,
    logs: () => logText,
    appToken,
    newAppToken: () => tokenFor("app"),
    call,
    serviceAccount,
    k: objects(admin, ns),
    url: `${api.scheme}://127.0.0.1:${api.port}`,
    metrics: () => operator.metrics.registry.metrics(),
    async stop() {
      await api.close();
      await operator.stop();
      kube.close();
      await mailpit.stop();
    },
  };
}

/** Creates a stage and its bindings and waits until the flow can run. */
export async function createFlow(
  f: ApiFixture,
  stage: string,
  stageSpec: Record<string, unknown>,
  bindings: { name: string; flow: string; order?: number; intent?: string; whenNoDevice?: string }[],
): Promise<void> {
  await f.k.create("emailauthenticatorstages", stage, stageSpec);
  for (const b of bindings) {
    const { name, ...rest } = b;
    await f.k.create("flowbindings", name, { ...rest, stageRef: { name: stage } });
  }
  for (const b of bindings) await f.k.waitFor("flowbindings", b.name, readyIs("True"), "flow ready");
}

/** The code in a message's text part. */
export function codeIn(message: MailMessage): string {
  const match = /^\s+(\d{6,10})\s*$/m.exec(message.Text);
  if (!match?.[1]) throw new Error(`no code in the mail:\n${message.Text}`);
  return match[1];
}

export const devicesApi = (kc: KubeConfig, namespace: string) => {
  const api = kc.makeApiClient(CustomObjectsApi);
  return async () =>
    (
      (await api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "emaildevices" })) as {
        items: { metadata: { name: string }; spec: Record<string, unknown>; status?: Record<string, unknown> }[];
      }
    ).items;
};

/**
 * A second operator replica beside the fixture's in-process one: a real process on the same
 * namespace and global settings, without leader election, so both serve the API at once.
 */
export function startSecondReplica(f: ApiFixture): Promise<OperatorProcess> {
  return startOperator({
    kubeconfig: controlPlane().info.operatorKubeconfig,
    args: [
      `--namespaces=${f.ns}`,
      `--global-settings-namespace=${f.ns}`,
      "--global-settings-configmap=smtp",
      "--leader-elect=false",
    ],
  });
}
