// The operator's heap after a full GC, asked of its own V8 over the inspector protocol (the
// process is started with --inspect on a loopback port). Nothing in src/ has to expose a hook.

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class Inspector {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, Pending>();
  #next = 1;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener("message", (event: MessageEvent) => {
      const msg = JSON.parse(String(event.data)) as { id?: number; result?: unknown; error?: { message: string } };
      const p = msg.id === undefined ? undefined : this.#pending.get(msg.id);
      if (!p || msg.id === undefined) return;
      this.#pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`inspector: ${msg.error.message}`));
      else p.resolve(msg.result);
    });
  }

  static async connect(port: number): Promise<Inspector> {
    const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
      webSocketDebuggerUrl: string;
    }[];
    const url = targets[0]?.webSocketDebuggerUrl;
    if (!url) throw new Error(`no inspector target on port ${port}`);
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve(), { once: true });
      ws.addEventListener("error", () => reject(new Error(`inspector: cannot connect to ${url}`)), { once: true });
    });
    return new Inspector(ws);
  }

  #call(method: string): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method }));
    });
  }

  /** Bytes used on the V8 heap right after a full garbage collection. */
  async heapAfterGc(): Promise<number> {
    await this.#call("HeapProfiler.collectGarbage");
    const usage = (await this.#call("Runtime.getHeapUsage")) as { usedSize: number };
    return usage.usedSize;
  }

  close(): void {
    this.#ws.close();
  }
}
