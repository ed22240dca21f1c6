// A real control plane for tests and the dev stack: etcd + kube-apiserver on free loopback
// ports in a temp dir, RBAC on, an admin identity and the operator's least-privilege
// ServiceAccount, CRDs installed and Established. Started the way envtest does it.
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "node:https";
import { readFileSync } from "node:fs";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { createAll, readManifests } from "./manifests.ts";
import { loadKubeconfig, writeKubeconfig } from "./kubeconfig.ts";
import { freePort } from "./ports.ts";
import { type Managed, ProcessGroup } from "./processes.ts";
import { crdsDir, repoRoot, tool } from "./paths.ts";
import { waitFor } from "./wait.ts";

export const OPERATOR_NAMESPACE = "email-authenticator-system";
export const OPERATOR_SERVICE_ACCOUNT = "email-authenticator-operator";

/** Everything a test process needs to reach the control plane (serialisable). */
export interface ControlPlaneInfo {
  dir: string;
  server: string;
  caFile: string;
  adminKubeconfig: string;
  operatorKubeconfig: string;
}

export interface StartOptions {
  /** Defaults to a fresh temp dir, removed on stop. */
  dir?: string;
  progress?: (message: string) => void;
}

export class ControlPlane {
  readonly info: ControlPlaneInfo;
  #group = new ProcessGroup();
  #etcd?: Managed;
  #apiserver?: Managed;
  #etcdUrl = "";
  #port = 0;
  #ownsDir: boolean;

  private constructor(info: ControlPlaneInfo, ownsDir: boolean) {
    this.info = info;
    this.#ownsDir = ownsDir;
  }

  static async start(options: StartOptions = {}): Promise<ControlPlane> {
    const progress = options.progress ?? (() => {});
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), "eao-controlplane-"));
    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    const plane = new ControlPlane(
      {
        dir,
        server,
        caFile: join(dir, "pki", "apiserver.crt"),
        adminKubeconfig: join(dir, "admin.kubeconfig"),
        operatorKubeconfig: join(dir, "operator.kubeconfig"),
      },
      options.dir === undefined,
    );
    plane.#port = port;
    try {
      progress(`etcd: starting (data in ${dir}/etcd)`);
      await plane.#startEtcd();
      progress(`kube-apiserver: starting on ${server}`);
      plane.#writeIdentities();
      await plane.startApiServer();
      progress("kube-apiserver: ready; installing CRDs and the operator's RBAC");
      await plane.#installCrds();
      await plane.#createOperatorIdentity();
      return plane;
    } catch (e) {
      await plane.stop();
      throw e;
    }
  }

  admin(): KubeConfig {
    return loadKubeconfig(this.info.adminKubeconfig);
  }

  async #startEtcd(): Promise<void> {
    const [client, peer] = [await freePort(), await freePort()];
    this.#etcdUrl = `http://127.0.0.1:${client}`;
    const peerUrl = `http://127.0.0.1:${peer}`;
    this.#etcd = this.#group.start(
      "etcd",
      tool("etcd"),
      [
        `--data-dir=${join(this.info.dir, "etcd")}`,
        `--listen-client-urls=${this.#etcdUrl}`,
        `--advertise-client-urls=${this.#etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=default=${peerUrl}`,
        "--unsafe-no-fsync", // test data: durability is not worth the fsync latency
        "--log-level=warn",
      ],
      join(this.info.dir, "etcd.log"),
    );
    const etcd = this.#etcd;
    await waitFor(
      async () => {
        const res = await fetch(`${this.#etcdUrl}/health`);
        return ((await res.json()) as { health?: string }).health === "true" ? true : undefined;
      },
      { what: "etcd /health", timeoutMs: 30_000, failFast: () => etcd.exitError() },
    );
  }

  #writeIdentities(): void {
    const { dir } = this.info;
    mkdirSync(join(dir, "pki"), { recursive: true });
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    writeFileSync(join(dir, "sa.key"), privateKey.export({ type: "sec1", format: "pem" }), { mode: 0o600 });
    const adminToken = randomBytes(24).toString("hex");
    // token,user,uid,"groups": the static admin; everyone else gets real ServiceAccount tokens.
    writeFileSync(join(dir, "tokens.csv"), `${adminToken},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });
    writeKubeconfig(this.info.adminKubeconfig, this.info, "admin", adminToken);
  }

  /** Starts (or restarts, after stopApiServer) kube-apiserver on the same port and data. */
  async startApiServer(): Promise<void> {
    const { dir, server } = this.info;
    this.#apiserver = this.#group.start(
      "kube-apiserver",
      tool("kube-apiserver"),
      [
        `--etcd-servers=${this.#etcdUrl}`,
        "--bind-address=127.0.0.1",
        `--secure-port=${this.#port}`,
        "--advertise-address=127.0.0.1",
        "--endpoint-reconciler-type=none", // 127.0.0.1 is not a valid endpoint for the kubernetes Service
        `--cert-dir=${join(dir, "pki")}`,
        `--service-account-issuer=${server}`,
        `--service-account-key-file=${join(dir, "sa.key")}`,
        `--service-account-signing-key-file=${join(dir, "sa.key")}`,
        "--service-cluster-ip-range=10.0.0.0/24",
        "--authorization-mode=RBAC",
        `--token-auth-file=${join(dir, "tokens.csv")}`,
        "--disable-admission-plugins=ServiceAccount",
      ],
      join(dir, "kube-apiserver.log"),
    );
    const apiserver = this.#apiserver;
    await waitFor(() => this.#readyz(), {
      what: "kube-apiserver /readyz",
      timeoutMs: 60_000,
      intervalMs: 200,
      failFast: () => apiserver.exitError(),
    });
  }

  async stopApiServer(): Promise<void> {
    if (this.#apiserver) await this.#group.stop(this.#apiserver);
    this.#apiserver = undefined;
  }

  async stop(): Promise<void> {
    await this.stopApiServer();
    if (this.#etcd) await this.#group.stop(this.#etcd);
    this.#group.dispose();
    if (this.#ownsDir) rmSync(this.info.dir, { recursive: true, force: true });
  }

  /** Child pids, for tests that prove nothing is left behind. */
  pids(): number[] {
    return [this.#etcd?.pid, this.#apiserver?.pid].filter((p): p is number => p !== undefined);
  }

  #readyz(): Promise<true | undefined> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.info.server}/readyz`,
        { ca: readFileSync(this.info.caFile), timeout: 2000 },
        (res) => {
          res.resume();
          resolve(res.statusCode === 200 ? true : undefined);
        },
      );
      req.on("error", reject);
      req.on("timeout", () => req.destroy(new Error("readyz timed out")));
      req.end();
    });
  }

  async #installCrds(): Promise<void> {
    const kc = this.admin();
    const files = readdirSync(crdsDir).filter((f) => f.endsWith(".yaml"));
    const crds = files.flatMap((f) => readManifests(join(crdsDir, f))) as V1CustomResourceDefinition[];
    await createAll(kc, crds);
    const api = kc.makeApiClient(ApiextensionsV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    for (const crd of crds) {
      const name = crd.metadata?.name ?? "";
      await waitFor(
        async () => {
          const current = await api.readCustomResourceDefinition({ name });
          return current.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")
            ? true
            : undefined;
        },
        { what: `CRD ${name} Established`, timeoutMs: 30_000 },
      );
      // Established is not the end: lists answer 429 until the watch cache has initialised.
      const { group, names, versions } = crd.spec;
      await waitFor(
        async () => {
          await custom.listClusterCustomObject({
            group,
            version: versions[0]?.name ?? "",
            plural: names.plural,
            limit: 1,
          });
          return true;
        },
        { what: `${names.plural} to be listable`, timeoutMs: 30_000 },
      );
    }
  }

  /** The operator's ServiceAccount, bound by the shipped RBAC, with a TokenRequest token. */
  async #createOperatorIdentity(): Promise<void> {
    const kc = this.admin();
    const install = join(repoRoot, "manifests", "install");
    await createAll(kc, [
      ...readManifests(join(install, "namespace.yaml")),
      ...readManifests(join(install, "rbac.yaml")),
    ]);
    const token = await serviceAccountToken(kc, OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT);
    writeKubeconfig(this.info.operatorKubeconfig, this.info, OPERATOR_SERVICE_ACCOUNT, token);
  }
}

/** A real ServiceAccount token from the TokenRequest API (no token controller needed). */
export async function serviceAccountToken(
  kc: KubeConfig,
  namespace: string,
  name: string,
  expirationSeconds = 86_400,
  /** Empty: the API server's own audience, which the operator's HTTP API refuses. */
  audiences: string[] = [],
): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const response = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences, expirationSeconds } },
  });
  const token = response.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${name} returned no token`);
  return token;
}
