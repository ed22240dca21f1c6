// Reads and writes the leader-election Lease. Every replace carries the resourceVersion it was
// based on, and a create fails if the Lease exists, so two candidates racing for the lease get
// one success and one 409 from the API server, never two winners. Each request is bounded by
// a timeout: a request hanging on a dead connection must not hold the elector past its deadline.
import { isNotFound } from "./errors.ts";
import { type CallOptions, type LeasesApi, leasesApi } from "./kube-api.ts";
import type { KubeClient } from "./kube-client.ts";
import type { Lease } from "./kube-types.ts";
import { leaseSpecFrom, recordFromLease } from "./lease-record.ts";
import type { LeaderRecord } from "./lease-record.ts";

export interface LeaseState {
  readonly record: LeaderRecord;
  readonly resourceVersion: string;
}

export class LeaseLock {
  readonly namespace: string;
  readonly name: string;
  readonly #api: LeasesApi;
  readonly #timeoutMs: number;

  constructor(kube: KubeClient, namespace: string, name: string, requestTimeoutMs: number) {
    this.namespace = namespace;
    this.name = name;
    this.#api = leasesApi(kube);
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
    const body: Lease = { metadata: { name: this.name, namespace: this.namespace }, spec: leaseSpecFrom(record) };
    return stateOf(await this.#api.createNamespacedLease({ namespace: this.namespace, body }, this.#options()));
  }

  /** Replaces the record; 409 Conflict if the Lease changed since `resourceVersion`. */
  async update(record: LeaderRecord, resourceVersion: string): Promise<LeaseState> {
    const body: Lease = {
      metadata: { name: this.name, namespace: this.namespace, resourceVersion },
      spec: leaseSpecFrom(record),
    };
    return stateOf(
      await this.#api.replaceNamespacedLease({ namespace: this.namespace, name: this.name, body }, this.#options()),
    );
  }

  #options(): CallOptions {
    return { timeoutMs: this.#timeoutMs };
  }
}

function stateOf(lease: Lease): LeaseState {
  return { record: recordFromLease(lease.spec), resourceVersion: lease.metadata?.resourceVersion ?? "" };
}
