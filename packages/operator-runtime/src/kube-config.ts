// Where the API server is and who we are to it: a kubeconfig file or a Pod's service account, found
// the way client-go and kubectl find them ($KUBECONFIG, then ~/.kube/config, then in-cluster).
// The shapes are those of @kubernetes/client-node's KubeConfig (getCurrentCluster/getCurrentUser),
// so one of its objects can be handed to the client as well, e.g. by tests.
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import { isIPv6 } from "node:net";
import { load } from "js-yaml";

export interface ClusterConfig {
  readonly name?: string;
  /** https://host:port, without a trailing slash. */
  readonly server: string;
  readonly caData?: string;
  readonly caFile?: string;
  readonly skipTLSVerify?: boolean;
  readonly tlsServerName?: string;
  readonly proxyUrl?: string;
}

/** kubeconfig's user.exec: a credential plugin (client.authentication.k8s.io). */
export interface ExecConfig {
  readonly command: string;
  readonly args?: readonly string[];
  readonly env?: readonly { readonly name: string; readonly value: string }[];
  readonly apiVersion?: string;
}

export interface UserConfig {
  readonly name?: string;
  readonly token?: string;
  readonly username?: string;
  readonly password?: string;
  readonly certData?: string;
  readonly certFile?: string;
  readonly keyData?: string;
  readonly keyFile?: string;
  readonly exec?: ExecConfig | null;
  /** Only "tokenFile" (a Pod's projected token, re-read as it rotates) is supported. */
  readonly authProvider?: { readonly name?: string; readonly config?: Record<string, unknown> } | null;
}

/** The current context's cluster and user. */
export interface KubeConfigSource {
  getCurrentCluster(): ClusterConfig | null;
  getCurrentUser(): UserConfig | null;
}

export class KubeConfigError extends Error {
  override readonly name = "KubeConfigError";
}

/** A loaded configuration: one cluster and one user. */
export class KubeConfig implements KubeConfigSource {
  readonly cluster: ClusterConfig;
  readonly user: UserConfig;
  /** The context's namespace, or a Pod's own. */
  readonly namespace: string | undefined;

  constructor(cluster: ClusterConfig, user: UserConfig, namespace?: string) {
    this.cluster = cluster;
    this.user = user;
    this.namespace = namespace;
  }

  getCurrentCluster(): ClusterConfig {
    return this.cluster;
  }

  getCurrentUser(): UserConfig {
    return this.user;
  }
}

export interface LoadOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly home?: string;
  /** Where a Pod's service account is mounted (tests point it elsewhere). */
  readonly serviceAccountDir?: string;
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** $KUBECONFIG (its first file), ~/.kube/config, or the Pod's service account, in that order. */
export function loadKubeConfig(options: LoadOptions = {}): KubeConfig {
  const env = options.env ?? process.env;
  const first = (env.KUBECONFIG ?? "").split(delimiter).find((f) => f !== "");
  if (first) return loadKubeConfigFile(first);
  const home = join(options.home ?? homedir(), ".kube", "config");
  if (existsSync(home)) return loadKubeConfigFile(home);
  return loadInCluster(options);
}

/** A Pod's configuration: the API server from the service environment, its token and CA files. */
export function loadInCluster(options: LoadOptions = {}): KubeConfig {
  const env = options.env ?? process.env;
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenFile = join(dir, "token");
  if (!host || !port || !existsSync(tokenFile)) {
    throw new KubeConfigError(
      "no Kubernetes configuration: set KUBECONFIG, create ~/.kube/config, or run in a Pod with a service account",
    );
  }
  const namespaceFile = join(dir, "namespace");
  return new KubeConfig(
    { name: "in-cluster", server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`, caFile: join(dir, "ca.crt") },
    { name: "in-cluster", authProvider: { name: "tokenFile", config: { tokenFile } } },
    existsSync(namespaceFile) ? readFileSync(namespaceFile, "utf8").trim() : undefined,
  );
}

/** The current context of a kubeconfig file; relative file paths in it are relative to the file. */
export function loadKubeConfigFile(path: string): KubeConfig {
  let doc: unknown;
  try {
    doc = load(readFileSync(path, "utf8"));
  } catch (e) {
    throw new KubeConfigError(`cannot read kubeconfig ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseKubeConfig(doc, dirname(resolve(path)), path);
}

export function parseKubeConfig(doc: unknown, baseDir: string, source = "kubeconfig"): KubeConfig {
  const fail = (what: string): never => {
    throw new KubeConfigError(`${source}: ${what}`);
  };
  if (!isRecord(doc)) return fail("not a mapping");
  const contextName = str(doc["current-context"]) ?? fail("current-context is not set");
  const context = named(doc.contexts, contextName, "context") ?? fail(`context ${contextName} not found`);
  const clusterName = str(context.cluster) ?? fail(`context ${contextName} names no cluster`);
  const c = named(doc.clusters, clusterName, "cluster") ?? fail(`cluster ${clusterName} not found`);
  const userName = str(context.user);
  const u = userName ? (named(doc.users, userName, "user") ?? fail(`user ${userName} not found`)) : {};
  const file = (v: unknown): string | undefined => {
    const p = str(v);
    return p && !isAbsolute(p) ? join(baseDir, p) : p;
  };
  const server = (str(c.server) ?? fail(`cluster ${clusterName} has no server`)).replace(/\/$/, "");
  const tokenFile = file(u["tokenFile"] ?? u["token-file"]);
  const exec = isRecord(u.exec) ? u.exec : undefined;
  const provider = isRecord(u["auth-provider"]) ? u["auth-provider"] : undefined;
  if (provider)
    fail(`user ${userName}: auth-provider ${str(provider.name) ?? ""} is not supported; use an exec plugin`);
  return new KubeConfig(
    {
      name: clusterName,
      server,
      caData: str(c["certificate-authority-data"]),
      caFile: file(c["certificate-authority"]),
      skipTLSVerify: c["insecure-skip-tls-verify"] === true,
      tlsServerName: str(c["tls-server-name"]),
      proxyUrl: str(c["proxy-url"]),
    },
    {
      name: userName,
      token: str(u.token),
      username: str(u.username),
      password: str(u.password),
      certData: str(u["client-certificate-data"]),
      certFile: file(u["client-certificate"]),
      keyData: str(u["client-key-data"]),
      keyFile: file(u["client-key"]),
      ...(exec
        ? {
            exec: {
              // A command with a path is relative to the file, as in client-go; a bare name is looked up in PATH.
              command: execCommand(str(exec.command) ?? fail(`user ${userName}: exec has no command`), baseDir),
              args: Array.isArray(exec.args) ? exec.args.map(String) : undefined,
              env: Array.isArray(exec.env)
                ? exec.env.filter(isRecord).map((e) => ({ name: String(e.name), value: String(e.value) }))
                : undefined,
              apiVersion: str(exec.apiVersion),
            },
          }
        : {}),
      ...(tokenFile ? { authProvider: { name: "tokenFile", config: { tokenFile } } } : {}),
    },
    str(context.namespace),
  );
}

function execCommand(command: string, baseDir: string): string {
  return command.includes("/") && !isAbsolute(command) ? join(baseDir, command) : command;
}

function named(list: unknown, name: string, field: string): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry: unknown = list.find((e) => isRecord(e) && e.name === name);
  return isRecord(entry) && isRecord(entry[field]) ? entry[field] : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
