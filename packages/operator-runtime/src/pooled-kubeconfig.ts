// A KubeConfig whose requests share one connection pool. @kubernetes/client-node 2.x builds a new
// undici Agent for every request, so every API call opened its own TLS connection: a handshake on
// both sides per call, most of the operator's CPU per sign-in and much of the API server's. Here
// the first Agent built for a cluster and set of credentials is kept and handed to every later
// request with the same ones (HTTP/2 multiplexes them over one connection, as client-go does).
// Bearer tokens travel in headers, which are still applied per request, so a rotated token is used
// at once; a changed server, CA or client certificate gets a pool of its own (files they name are
// read once, as client-go does, not per request as the client library would). Auth providers only
// set that header (in a Pod, the projected token file is one), so they are pooled; credentials
// from an exec plugin may carry a client certificate of their own, so those are not.
import { readFileSync } from "node:fs";
import { KubeConfig, type RequestContext, type User } from "@kubernetes/client-node";

type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

/** The client library's own test for exec credentials (its ExecAuth.isAuthProvider). */
function fromExecPlugin(user: User): boolean {
  const provider = user.authProvider as { name?: string; config?: { exec?: unknown } } | undefined;
  return !!user.exec || provider?.name === "exec" || !!provider?.config?.exec;
}

export class PooledKubeConfig extends KubeConfig {
  readonly #pools = new Map<string, Dispatcher>();

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    const user = this.getCurrentUser();
    if (!user || fromExecPlugin(user)) {
      await super.applySecurityAuthentication(context);
      return;
    }
    this.#readFilesOnce();
    const key = this.#poolKey();
    const pooled = this.#pools.get(key);
    if (!pooled) {
      // The first request for these credentials: the client library builds the Agent to keep.
      await super.applySecurityAuthentication(context);
      const built = context.getDispatcher();
      if (built) this.#pools.set(key, built);
      return;
    }
    // Later ones only need their headers; the library would build (and we would close) an Agent
    // per request. The same headers as the library's own: Basic auth first, then those of the
    // token or auth provider.
    const options: { headers?: Record<string, unknown> } = {};
    await this.applyToHTTPSOptions(options);
    if (user.username)
      context.setHeaderParam(
        "Authorization",
        `Basic ${Buffer.from(`${user.username}:${user.password ?? ""}`).toString("base64")}`,
      );
    for (const [name, value] of Object.entries(options.headers ?? {})) context.setHeaderParam(name, String(value));
    context.setDispatcher(pooled);
  }

  /** Closes the pooled connections (at shutdown, after the last request). */
  async closePools(): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.close().catch(() => undefined)));
  }

  /**
   * Replaces the current cluster's CA file and the user's certificate and key files by their
   * contents. The client library reads them on every request, though a pooled connection keeps
   * what it was opened with (client-go likewise reads them once); a Pod's CA file was read per call.
   */
  #readFilesOnce(): void {
    const cluster = this.getCurrentCluster();
    if (cluster?.caFile) {
      const inlined = { ...cluster, caData: readFileSync(cluster.caFile).toString("base64"), caFile: undefined };
      this.clusters = this.clusters.map((c) => (c === cluster ? inlined : c));
    }
    const user = this.getCurrentUser();
    if (user?.certFile || user?.keyFile) {
      const inlined = {
        ...user,
        ...(user.certFile ? { certData: readFileSync(user.certFile).toString("base64"), certFile: undefined } : {}),
        ...(user.keyFile ? { keyData: readFileSync(user.keyFile).toString("base64"), keyFile: undefined } : {}),
      };
      this.users = this.users.map((u) => (u === user ? inlined : u));
    }
  }

  /** What the Agent is built from: the server, its CA and TLS settings, the client certificate. */
  #poolKey(): string {
    const c = this.getCurrentCluster();
    const u = this.getCurrentUser();
    return JSON.stringify([
      c?.server,
      c?.caData,
      c?.caFile,
      c?.skipTLSVerify,
      c?.tlsServerName,
      c?.proxyUrl,
      u?.certData,
      u?.certFile,
      u?.keyData,
      u?.keyFile,
    ]);
  }
}
