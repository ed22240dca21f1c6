// The operator's HTTP client for the API server: JSON over keep-alive connections of node:https,
// one pool for every request. It replaces @kubernetes/client-node at run time: that library built
// a connection (and TLS handshake) per request, turned every body into model classes and back, and
// it made up two thirds of the operator's bundle. The operator makes a few dozen kinds
// of request; kube-api.ts spells them out over request() here, list-watch.ts streams watches.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { createSecureContext } from "node:tls";
import type { ClusterConfig, KubeConfigSource } from "./kube-config.ts";
import {
  type CredentialOptions,
  type Credentials,
  type CredentialSource,
  credentialSource,
  pem,
} from "./kube-credentials.ts";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface RequestOptions {
  readonly query?: Query;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Default application/json; a PATCH says which patch it is. */
  readonly contentType?: string;
  /** Default application/json; a metadata-only list asks for a PartialObjectMetadataList. */
  readonly accept?: string;
  readonly signal?: AbortSignal;
  /** Bounds the whole request; on expiry it fails as a TimeoutError. */
  readonly timeoutMs?: number;
}

/**
 * A response outside 2xx. The same shape as client-node's ApiException (code, body, headers), so
 * normalizeError reads both; the body is the response text (usually a JSON Status).
 */
export class KubeApiError extends Error {
  override readonly name = "KubeApiError";
  readonly code: number;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: number, message: string, body: unknown, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.code = code;
    this.body = body;
    this.headers = headers;
  }
}

export interface KubeClientOptions extends CredentialOptions {
  /** Who the API server's audit log and metrics name as the caller's agent. */
  readonly userAgent?: string;
  /**
   * Idle pooled connections are closed after this (default 60 s; the API server drops them after
   * 90 s idle). Long enough that bursts a minute apart reuse them: after 30 s, the benchmark saw
   * each burst of 32 flows open 20–30 new TLS connections, a handshake each on the API server.
   */
  readonly idleTimeoutMs?: number;
}

type Agent = HttpAgent | HttpsAgent;

export class KubeClient {
  readonly server: string;
  readonly #cluster: ClusterConfig;
  readonly #credentials: CredentialSource;
  readonly #https: boolean;
  readonly #ca: string | undefined;
  readonly #userAgent: string;
  readonly #idleTimeoutMs: number;
  /** One pool per client certificate (an exec plugin may rotate it); usually just one. */
  readonly #agents = new Map<string, Agent>();
  #closed = false;

  constructor(config: KubeConfigSource, options: KubeClientOptions = {}) {
    const cluster = config.getCurrentCluster();
    if (!cluster?.server) throw new Error("the Kubernetes configuration has no current cluster");
    if (cluster.proxyUrl) throw new Error("kubeconfig proxy-url is not supported");
    this.#cluster = cluster;
    this.server = cluster.server.replace(/\/$/, "");
    this.#https = new URL(this.server).protocol === "https:";
    this.#ca = pem(cluster.caData, cluster.caFile);
    this.#credentials = credentialSource(config.getCurrentUser(), options);
    this.#userAgent = options.userAgent ?? "operator-runtime";
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
  }

  /** One request; resolves with the parsed JSON body (undefined when empty), throws KubeApiError otherwise. */
  async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.#send(method, path, options);
    const text = await readBody(res);
    if (res.statusCode! < 200 || res.statusCode! > 299) throw this.#error(method, path, res, text);
    return (text === "" ? undefined : JSON.parse(text)) as T;
  }

  /**
   * A streaming GET (a watch): resolves with the response once a 2xx status arrived. The caller
   * reads it and destroys it to end the request early.
   */
  async stream(path: string, options: Pick<RequestOptions, "query" | "signal"> = {}): Promise<IncomingMessage> {
    const res = await this.#send("GET", path, options);
    if (res.statusCode! >= 200 && res.statusCode! <= 299) return res;
    throw this.#error("GET", path, res, await readBody(res));
  }

  /** Closes every pooled connection; later requests fail. */
  close(): void {
    this.#closed = true;
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }

  async #send(method: Method, path: string, options: RequestOptions): Promise<IncomingMessage> {
    if (this.#closed) throw new Error("the Kubernetes client is closed");
    const credentials = await this.#credentials.get();
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    // A string, not a Buffer: Node.js then sends the headers and the body in one write (one TLS
    // record, one system call) instead of two.
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string | number> = {
      Accept: options.accept ?? "application/json",
      "User-Agent": this.#userAgent,
    };
    if (credentials.authorization) headers.Authorization = credentials.authorization;
    if (body) {
      headers["Content-Type"] = options.contentType ?? "application/json";
      headers["Content-Length"] = Buffer.byteLength(body);
    }
    const signals = [options.signal, options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    signal?.throwIfAborted();
    const attempt = () =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const req = (this.#https ? httpsRequest : httpRequest)(url, {
          method,
          headers,
          agent: this.#agentFor(credentials),
        });
        // Like fetch: an aborted request fails with the signal's reason (TimeoutError for a timeout).
        const onAbort = () => req.destroy(signal!.reason instanceof Error ? signal!.reason : new Error("aborted"));
        signal?.addEventListener("abort", onAbort, { once: true });
        req.once("close", () => signal?.removeEventListener("abort", onAbort));
        req.once("error", (err) => reject(Object.assign(err, { [REUSED]: req.reusedSocket })));
        req.once("response", (r) => {
          // Aborting later destroys the response too; its reader sees the error.
          r.once("error", () => {});
          resolve(r);
        });
        req.end(body);
      });
    let res: IncomingMessage;
    try {
      res = await attempt();
    } catch (err) {
      // A kept-alive connection the server closed just as we reused it: the request never
      // reached it (Node.js's documented case for a retry), so it is sent once more, anew.
      if (!isStaleConnection(err) || signal?.aborted) throw err;
      res = await attempt();
    }
    if (res.statusCode === 401) this.#credentials.refused();
    return res;
  }

  #agentFor(credentials: Credentials): Agent {
    const identity = credentials.cert ? `${credentials.cert}\n${credentials.key ?? ""}` : "";
    let agent = this.#agents.get(identity);
    if (!agent) {
      const common = { keepAlive: true, timeout: this.#idleTimeoutMs };
      agent = this.#https
        ? new HttpsAgent({
            ...common,
            // One TLS context for all the pool's connections. It also keeps the CA and the client
            // certificate (kilobytes of PEM) out of the pool name the agent builds on every request.
            secureContext: createSecureContext({ ca: this.#ca, cert: credentials.cert, key: credentials.key }),
            rejectUnauthorized: !this.#cluster.skipTLSVerify,
            servername: this.#cluster.tlsServerName,
          })
        : new HttpAgent(common);
      // A rotated client certificate: the old pool's connections close as they go idle.
      for (const old of this.#agents.values()) retire(old);
      this.#agents.clear();
      this.#agents.set(identity, agent);
    }
    return agent;
  }

  #error(method: Method, path: string, res: IncomingMessage, text: string): KubeApiError {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") headers[k] = v;
    return new KubeApiError(res.statusCode!, `${method} ${path}: HTTP ${res.statusCode}`, text, headers);
  }
}

const REUSED = Symbol("reusedSocket");

function isStaleConnection(err: unknown): boolean {
  const e = err as { code?: unknown; [REUSED]?: boolean };
  return e[REUSED] === true && (e.code === "ECONNRESET" || e.code === "EPIPE");
}

function retire(agent: Agent): void {
  setTimeout(() => agent.destroy(), 120_000).unref();
}

async function readBody(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
