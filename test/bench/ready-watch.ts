// Which objects of some kinds in a namespace are Ready, kept current by one watch per kind, so
// waiting for a thousand stages costs the API server a watch instead of a poll per object.
import { type KubeConfig, Watch } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";

interface Watched {
  metadata?: { name?: string; generation?: number };
  status?: { observedGeneration?: number; conditions?: { type: string; status: string }[] };
}

const isReady = (o: Watched): boolean =>
  o.status?.observedGeneration === o.metadata?.generation &&
  (o.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

export class ReadyWatch {
  readonly #ready = new Set<string>();
  #waiters: (() => void)[] = [];
  readonly #aborts: AbortController[] = [];
  #error?: Error;
  #stopped = false;
  #restarts = 0;

  /** Tracks objects whose names start with `prefix` (default: all). */
  static async start(kc: KubeConfig, namespace: string, plurals: readonly string[], prefix = ""): Promise<ReadyWatch> {
    const w = new ReadyWatch();
    for (const plural of plurals) await w.#watch(kc, namespace, plural, prefix);
    return w;
  }

  /**
   * The API server ends a watch whenever it likes (a timeout, a client it thinks too slow); a
   * new one starts with every current object, so the set stays right.
   */
  async #watch(kc: KubeConfig, namespace: string, plural: string, prefix: string): Promise<void> {
    const abort = await new Watch(kc).watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${plural}`,
      {},
      (phase: string, o: Watched) => {
        const name = o.metadata?.name ?? "";
        if (phase === "ERROR" || !name.startsWith(prefix)) return;
        const key = `${plural}/${name}`;
        if (phase !== "DELETED" && isReady(o)) this.#ready.add(key);
        else this.#ready.delete(key);
        this.#wake();
      },
      (err: unknown) => {
        if (this.#stopped) return;
        if (++this.#restarts > 100) {
          this.#error = new Error(
            `watch on ${plural} ended too often: ${err instanceof Error ? err.message : "no error given"}`,
          );
          this.#wake();
          return;
        }
        setTimeout(
          () =>
            void this.#watch(kc, namespace, plural, prefix).catch((e: unknown) => {
              this.#error = e instanceof Error ? e : new Error(`watch on ${plural} could not restart`);
              this.#wake();
            }),
          100,
        );
      },
    );
    this.#aborts.push(abort);
  }

  /** Ready objects of every watched kind. */
  get count(): number {
    return this.#ready.size;
  }

  has(plural: string, name: string): boolean {
    return this.#ready.has(`${plural}/${name}`);
  }

  /** Resolves once `ok` holds; rejects when the watch ends or the deadline passes. */
  async until(ok: (w: ReadyWatch) => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok(this)) {
      if (this.#error) throw this.#error;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${this.count} ready)`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const abort of this.#aborts) abort.abort();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
