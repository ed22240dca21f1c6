// LIST and WATCH of one collection with @kubernetes/client-node 2.0.1, as plain JSON. The LIST
// is a raw GET through the client's own auth and TLS (RequestContext + applySecurityAuthentication),
// not a generated API: those turn built-in kinds into model classes with Date fields while watch
// events stay plain JSON, and the cache would then hold two shapes of the same object.
// The WATCH uses client-node's Watch class. What it does that matters here (dist/watch.js):
// - `requestTimeoutMs` (30 s, private) is a connect timeout and then an inactivity timeout; the
//   API server's bookmarks come about once a minute, so 30 s would cut healthy watches.
// - its AbortController is returned only once response headers arrived, so a watch still
//   connecting cannot be aborted; that timer is what bounds it.
// - exceptions thrown by the event callback are swallowed as "parse errors".
// - an ERROR event (e.g. 410 Expired) is delivered as an event, then the stream ends cleanly.
import { ApiException, HttpMethod, IsomorphicFetchHttpLibrary, RequestContext, Watch } from "@kubernetes/client-node";
import type { KubeConfig, KubernetesListObject, KubernetesObject } from "@kubernetes/client-node";
import { isGone } from "./errors.ts";
import { collectionPath } from "./resource.ts";
import type { ResourceRef } from "./resource.ts";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";

export interface WatchEvent<T> {
  readonly type: WatchEventType;
  /** For BOOKMARK only metadata.resourceVersion is meaningful. */
  readonly object: T;
}

export interface ListResult<T> {
  readonly items: T[];
  readonly resourceVersion: string;
}

export interface WatchRequest {
  readonly resourceVersion: string;
  /** Server-side timeout; the server ends the watch cleanly after it. */
  readonly timeoutSeconds: number;
  readonly signal: AbortSignal;
}

export interface ListWatch<T> {
  list(signal: AbortSignal): Promise<ListResult<T>>;
  /**
   * Watches from `resourceVersion` with bookmarks. Resolves when the server ends the watch
   * cleanly; rejects on a failed request, an ERROR event (as an ApiException carrying the
   * Status, so 410 Expired is `isGone`), an exception from `onEvent`, or abort. It settles only
   * once the request is over, so a caller that awaits it never has two watches open.
   */
  watch(request: WatchRequest, onEvent: (event: WatchEvent<T>) => void): Promise<void>;
}

export interface ListWatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per LIST page (default 500, as client-go's pager); 0 lists in one response. */
  pageSize?: number;
  /** client-node's connect/inactivity timer for watches (default 5 min). */
  requestTimeoutMs?: number;
  /** Bound of each LIST page request, so a dead connection cannot hold a LIST forever (default 60 s). */
  listTimeoutMs?: number;
}

const EVENT_TYPES = new Set<string>(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);

export function createListWatch<T extends KubernetesObject>(
  kc: KubeConfig,
  ref: ResourceRef,
  options: ListWatchOptions = {},
): ListWatch<T> {
  return new KubeListWatch<T>(kc, collectionPath(ref), options);
}

class KubeListWatch<T extends KubernetesObject> implements ListWatch<T> {
  readonly #kc: KubeConfig;
  readonly #path: string;
  readonly #selectors: Record<string, string>;
  readonly #pageSize: number;
  readonly #listTimeoutMs: number;
  readonly #watch: Watch;
  readonly #http = new IsomorphicFetchHttpLibrary();

  constructor(kc: KubeConfig, path: string, options: ListWatchOptions) {
    this.#kc = kc;
    this.#path = path;
    this.#selectors = {
      ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
      ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
    };
    this.#pageSize = options.pageSize ?? 500;
    this.#listTimeoutMs = options.listTimeoutMs ?? 60_000;
    this.#watch = new Watch(kc);
    setWatchRequestTimeout(this.#watch, options.requestTimeoutMs ?? 300_000);
  }

  async list(signal: AbortSignal): Promise<ListResult<T>> {
    const items: T[] = [];
    let resourceVersion: string;
    let cont: string | undefined;
    do {
      const query: Record<string, string> = { ...this.#selectors };
      if (this.#pageSize > 0) query.limit = String(this.#pageSize);
      if (cont) query.continue = cont;
      let page: KubernetesListObject<T>;
      try {
        page = await this.#get(query, signal);
      } catch (err) {
        // The continue token expired between pages: a consistent list needs a fresh start,
        // and one unpaged request cannot expire (client-go's pager does the same).
        if (cont && isGone(err)) return this.#unpaged(signal);
        throw err;
      }
      items.push(...withTypeMeta(page));
      resourceVersion = page.metadata?.resourceVersion ?? "";
      cont = continueToken(page);
    } while (cont);
    return { items, resourceVersion };
  }

  async #unpaged(signal: AbortSignal): Promise<ListResult<T>> {
    const page = await this.#get({ ...this.#selectors }, signal);
    return { items: withTypeMeta(page), resourceVersion: page.metadata?.resourceVersion ?? "" };
  }

  async #get(query: Record<string, string>, signal: AbortSignal): Promise<KubernetesListObject<T>> {
    const ctx = new RequestContext(this.#url(query), HttpMethod.GET);
    ctx.setHeaderParam("Accept", "application/json");
    await this.#kc.applySecurityAuthentication(ctx);
    ctx.setSignal(AbortSignal.any([signal, AbortSignal.timeout(this.#listTimeoutMs)]));
    const res = await this.#http.send(ctx).toPromise();
    const text = await res.body.text();
    if (res.httpStatusCode < 200 || res.httpStatusCode > 299) {
      throw new ApiException(res.httpStatusCode, `LIST ${this.#path}: HTTP ${res.httpStatusCode}`, text, res.headers);
    }
    return JSON.parse(text) as KubernetesListObject<T>;
  }

  #url(query: Record<string, string>): string {
    const server = this.#kc.getCurrentCluster()?.server;
    if (!server) throw new Error("the kubeconfig has no current cluster");
    const url = new URL(server + this.#path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url.toString();
  }

  watch(request: WatchRequest, onEvent: (event: WatchEvent<T>) => void): Promise<void> {
    const { signal } = request;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(abortError(signal));
        return;
      }
      let failure: unknown;
      let controller: AbortController | undefined;
      const fail = (err: unknown): void => {
        failure ??= err;
        controller?.abort();
      };
      const onAbort = (): void => fail(abortError(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      const done = (err: unknown): void => {
        signal.removeEventListener("abort", onAbort);
        const error = failure ?? err;
        if (error) reject(error instanceof Error ? error : new Error("watch failed", { cause: error }));
        else resolve();
      };
      const query = {
        ...this.#selectors,
        resourceVersion: request.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: request.timeoutSeconds,
      };
      const callback = (type: string, object: unknown): void => {
        if (failure) return;
        if (type === "ERROR") return fail(statusError(object));
        if (!EVENT_TYPES.has(type) || !isObject(object))
          return fail(new Error(`unexpected watch event ${JSON.stringify(type)}`));
        try {
          onEvent({ type: type as WatchEventType, object: object as T });
        } catch (err) {
          fail(err); // Watch would swallow it; end the watch so the caller sees it
        }
      };
      this.#watch.watch(this.#path, query, callback, done).then(
        (c) => {
          controller = c;
          if (failure) c.abort();
        },
        // Rejects only before the request was sent (no cluster, auth failure): done is never called.
        (err: unknown) => done(err),
      );
    });
  }
}

/**
 * Sets client-node's private `requestTimeoutMs` on `watch`: private in the typings, but the only
 * knob for the timer described at the top. Fails loudly, rather than leaving the 30 s default
 * to cut healthy watches, if a client upgrade removed or retyped the field; list-watch.test.ts
 * checks the same against the installed client.
 */
export function setWatchRequestTimeout(watch: Watch, ms: number): void {
  const fields = watch as unknown as Record<string, unknown>;
  if (typeof fields.requestTimeoutMs !== "number")
    throw new Error(
      "@kubernetes/client-node's Watch no longer has a numeric requestTimeoutMs field; list-watch.ts must be adapted",
    );
  fields.requestTimeoutMs = ms;
}

/** List items carry no kind/apiVersion; watch objects do. Give the cache one shape. */
function withTypeMeta<T extends KubernetesObject>(list: KubernetesListObject<T>): T[] {
  const kind = list.kind?.endsWith("List") ? list.kind.slice(0, -4) : undefined;
  return (list.items ?? []).map((item) => ({
    ...item,
    kind: item.kind ?? kind,
    apiVersion: item.apiVersion ?? list.apiVersion,
  }));
}

/** Raw JSON says `continue`; client-node's V1ListMeta model renames it `_continue`. */
function continueToken(list: KubernetesListObject<KubernetesObject>): string | undefined {
  const meta: Record<string, unknown> = { ...list.metadata };
  const token = meta.continue ?? meta._continue;
  return typeof token === "string" && token !== "" ? token : undefined;
}

function statusError(status: unknown): ApiException<unknown> {
  const code = isObject(status) && typeof status.code === "number" ? status.code : 500;
  return new ApiException(code, `watch ERROR event (HTTP ${code})`, status, {});
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException("watch aborted", "AbortError");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}
