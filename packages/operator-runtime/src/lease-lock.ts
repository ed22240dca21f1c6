// Reads and writes the leader-election Lease. Every replace carries the resourceVersion it was
// based on, and a create fails if the Lease exists, so two candidates racing for the lease get
// one success and one 409 from the API server, never two winners. Each request is bounded by
// a timeout: a request hanging on a dead connection must not hold the elector past its deadline.
import { CoordinationV1Api, Observable } from "@kubernetes/client-node";
import type { ConfigurationOptions, KubeConfig, ObservableMiddleware, V1Lease } from "@kubernetes/client-node";
import { isNotFound } from "./errors.ts";
import { leaseSpecFrom, recordFromLease } from "./lease-record.ts";
import type { LeaderRecord } from "./lease-record.ts";

export interface LeaseState {
  readonly record: LeaderRecord;
  readonly resourceVersion: string;
}

export class LeaseLock {
  readonly namespace: string;
  readonly name: string;
  readonly #api: CoordinationV1Api;
  readonly #timeoutMs: number;

  constructor(kc: KubeConfig, namespace: string, name: string, requestTimeoutMs: number) {
    this.namespace = namespace;
    this.name = name;
    this.#api = kc.makeApiClient(CoordinationV1Api);
    this.#timeoutMs = requestTimeoutMs;
  }

  /** The current record, or undefined when there is no Lease yet. */
  async get(): Promise<LeaseState | undefined> {
    try {
      return stateOf(
        await this.#api.readNamespacedLease({ namespace: this.namespace, name: this.name }, this.#options()),
      );
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Creates the Lease; 409 AlreadyExists if another candidate was first. */
  async create(record: LeaderRecord): Promise<LeaseState> {
    const body: V1Lease = { metadata: { name: this.name, namespace: this.namespace }, spec: leaseSpecFrom(record) };
    return stateOf(await this.#api.createNamespacedLease({ namespace: this.namespace, body }, this.#options()));
  }

  /** Replaces the record; 409 Conflict if the Lease changed since `resourceVersion`. */
  async update(record: LeaderRecord, resourceVersion: string): Promise<LeaseState> {
    const body: V1Lease = {
      metadata: { name: this.name, namespace: this.namespace, resourceVersion },
      spec: leaseSpecFrom(record),
    };
    return stateOf(
      await this.#api.replaceNamespacedLease({ namespace: this.namespace, name: this.name, body }, this.#options()),
    );
  }

  /**
   * Per-call options whose middleware gives the request an abort signal with the timeout.
   * client-node 2.0.1's object-parameter APIs run on its Observable API, so per-call middleware
   * must return its (promise-backed) Observable; the exported `Middleware` type is the
   * Promise flavour and fails at run time with "toPromise is not a function".
   */
  #options(): ConfigurationOptions {
    const signal = AbortSignal.timeout(this.#timeoutMs);
    const timeout: ObservableMiddleware = {
      pre: (ctx) => {
        ctx.setSignal(signal);
        return new Observable(Promise.resolve(ctx));
      },
      post: (res) => new Observable(Promise.resolve(res)),
    };
    return { middleware: [timeout], middlewareMergeStrategy: "append" };
  }
}

function stateOf(lease: V1Lease): LeaseState {
  return { record: recordFromLease(lease.spec), resourceVersion: lease.metadata?.resourceVersion ?? "" };
}
