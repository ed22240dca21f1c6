// LIST and WATCH of one collection, as plain JSON over KubeClient. The LIST is paged (a continue
// token that expired mid-way restarts it unpaged, as client-go's pager does). The WATCH streams
// newline-delimited events; an inactivity timer ends a watch whose connection died silently
// (the API server's bookmarks come about once a minute, so it must be longer than that).
import { isGone } from "./errors.ts";
import { KubeApiError, type KubeClient } from "./kube-client.ts";
import type { KubernetesListObject, KubernetesObject } from "./kube-types.ts";
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
   * cleanly; rejects on a failed request, an ERROR event (as a KubeApiError carrying the
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
  /** A watch that delivers nothing (not even a bookmark) for this long is ended (default 5 min). */
  requestTimeoutMs?: number;
  /** Bound of each LIST page request, so a dead connection cannot hold a LIST forever (default 60 s). */
  listTimeoutMs?: number;
}

const EVENT_TYPES = new Set<string>(["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);

export function createListWatch<T extends KubernetesObject>(
  kube: KubeClient,
  ref: ResourceRef,
  options: ListWatchOptions = {},
): ListWatch<T> {
  return new KubeListWatch<T>(kube, collectionPath(ref), options);
}

class KubeListWatch<T extends KubernetesObject> implements ListWatch<T> {
  readonly #kube: KubeClient;
  readonly #path: string;
  readonly #selectors: Record<string, string>;
  readonly #pageSize: number;
  readonly #listTimeoutMs: number;
  readonly #inactivityMs: number;

  constructor(kube: KubeClient, path: string, options: ListWatchOptions) {
    this.#kube = kube;
    this.#path = path;
    this.#selectors = {
      ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
      ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
    };
    this.#pageSize = options.pageSize ?? 500;
    this.#listTimeoutMs = options.listTimeoutMs ?? 60_000;
    this.#inactivityMs = options.requestTimeoutMs ?? 300_000;
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
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  async #unpaged(signal: AbortSignal): Promise<ListResult<T>> {
    const page = await this.#get({ ...this.#selectors }, signal);
    return { items: withTypeMeta(page), resourceVersion: page.metadata?.resourceVersion ?? "" };
  }

  #get(query: Record<string, string>, signal: AbortSignal): Promise<KubernetesListObject<T>> {
    return this.#kube.request("GET", this.#path, { query, signal, timeoutMs: this.#listTimeoutMs });
  }

  async watch(request: WatchRequest, onEvent: (event: WatchEvent<T>) => void): Promise<void> {
    const { signal } = request;
    signal.throwIfAborted();
    // Bounds the connect as well as every silence after it.
    const inactive = new AbortController();
    let timer = setTimeout(() => inactive.abort(inactivityError(this.#inactivityMs)), this.#inactivityMs);
    const both = AbortSignal.any([signal, inactive.signal]);
    try {
      const res = await this.#kube.stream(this.#path, {
        signal: both,
        query: {
          ...this.#selectors,
          watch: "true",
          resourceVersion: request.resourceVersion,
          allowWatchBookmarks: "true",
          timeoutSeconds: String(request.timeoutSeconds),
        },
      });
      let pending = "";
      res.setEncoding("utf8");
      for await (const chunk of res as AsyncIterable<string>) {
        clearTimeout(timer);
        timer = setTimeout(() => inactive.abort(inactivityError(this.#inactivityMs)), this.#inactivityMs);
        pending += chunk;
        let newline: number;
        while ((newline = pending.indexOf("\n")) >= 0) {
          const line = pending.slice(0, newline).trim();
          pending = pending.slice(newline + 1);
          if (line !== "") this.#deliver(line, onEvent);
        }
      }
      if (pending.trim() !== "") this.#deliver(pending.trim(), onEvent);
    } catch (err) {
      // Ended by our own signals: report the reason (abort, or inactivity) rather than a socket error.
      if (both.aborted)
        throw both.reason instanceof Error ? both.reason : new DOMException("watch aborted", "AbortError");
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One event; throws (ending the watch, the response destroyed by the loop's exit) on ERROR or nonsense. */
  #deliver(line: string, onEvent: (event: WatchEvent<T>) => void): void {
    let event: { type?: unknown; object?: unknown };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      throw new Error(`unparseable watch event on ${this.#path}`);
    }
    const { type, object } = event;
    if (type === "ERROR") throw statusError(object);
    if (typeof type !== "string" || !EVENT_TYPES.has(type) || !isObject(object))
      throw new Error(`unexpected watch event ${JSON.stringify(type)}`);
    onEvent({ type: type as WatchEventType, object: object as T });
  }
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

/** An ERROR event's Status as an API error, so 410 Expired is `isGone`. */
function statusError(status: unknown): KubeApiError {
  const code = isObject(status) && typeof status.code === "number" ? status.code : 500;
  return new KubeApiError(code, `watch ERROR event (HTTP ${code})`, status);
}

function inactivityError(ms: number): Error {
  return new DOMException(`watch silent for ${ms} ms`, "TimeoutError");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null;
}
