// The informer's subscribers. Handlers run synchronously, in registration order; whatever one
// throws, or an async one rejects with, is logged and contained: one faulty handler must not
// stop the others, break the watch, or surface as an unhandled rejection (client-node's own
// informer lets those escape, kubernetes-client/javascript#680).
import type { Logger } from "pino";
import type { Delta } from "./informer-store.ts";
import type { InvalidObject } from "./object-cache.ts";

export type AddHandler<T> = (obj: T) => unknown;
export type UpdateHandler<T> = (old: T, obj: T) => unknown;
export type DeleteHandler<T> = (obj: T) => unknown;
/** Called periodically for every cached object, with its "namespace/name" key. */
export type ResyncHandler<T> = (key: string, obj: T) => unknown;
/** Called when an object fails to decode, and again each resync while it stays invalid. */
export type InvalidHandler = (invalid: InvalidObject) => unknown;

export class EventHandlers<T> {
  readonly #log: Logger;
  readonly #add: AddHandler<T>[] = [];
  readonly #update: UpdateHandler<T>[] = [];
  readonly #delete: DeleteHandler<T>[] = [];
  readonly #resync: ResyncHandler<T>[] = [];
  readonly #invalid: InvalidHandler[] = [];

  constructor(log: Logger) {
    this.#log = log;
  }

  onAdd(h: AddHandler<T>): void {
    this.#add.push(h);
  }

  onUpdate(h: UpdateHandler<T>): void {
    this.#update.push(h);
  }

  onDelete(h: DeleteHandler<T>): void {
    this.#delete.push(h);
  }

  onResync(h: ResyncHandler<T>): void {
    this.#resync.push(h);
  }

  onInvalid(h: InvalidHandler): void {
    this.#invalid.push(h);
  }

  dispatch(delta: Delta<T>): void {
    switch (delta.type) {
      case "add":
        for (const h of this.#add) this.#call("add", () => h(delta.object));
        break;
      case "update":
        for (const h of this.#update) this.#call("update", () => h(delta.old, delta.object));
        break;
      case "delete":
        for (const h of this.#delete) this.#call("delete", () => h(delta.object));
        break;
    }
  }

  resync(key: string, obj: T): void {
    for (const h of this.#resync) this.#call("resync", () => h(key, obj));
  }

  invalid(invalid: InvalidObject): void {
    for (const h of this.#invalid) this.#call("invalid", () => h(invalid));
  }

  #call(event: string, fn: () => unknown): void {
    try {
      const result = fn();
      if (isThenable(result)) {
        Promise.resolve(result).catch((err: unknown) => this.#failed(event, err));
      }
    } catch (err) {
      this.#failed(event, err);
    }
  }

  #failed(event: string, err: unknown): void {
    try {
      this.#log.error({ err, event }, "informer event handler failed");
    } catch {
      // A broken logger must not turn into the very crash this class exists to prevent.
    }
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    (typeof v === "object" || typeof v === "function") &&
    v !== null &&
    typeof (v as { then?: unknown }).then === "function"
  );
}
