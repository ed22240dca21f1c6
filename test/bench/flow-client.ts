// A whole flow as an application and its user run it over the operator's HTTP API: start the
// flow for a user with a known address, read the code from the mailbox, submit it. Anything
// but a completed flow is an error: the benchmark counts only completed flows.
// Requests go over node:http with keep-alive, not fetch: the floor's client is the runtime's lean
// KubeClient, and on shared cores undici's per-request work would count against the operator.
import { Agent, request } from "node:http";
import type { MailReader } from "./mail-reader.ts";

export interface FlowClientOptions {
  /** The operator's HTTP API. */
  baseUrl: string;
  /** A Kubernetes token allowed to execute the flows. */
  appToken: string;
  mail: MailReader;
}

interface ExecutionBody {
  id?: string;
  token?: string;
  state?: string;
  code?: string;
  detail?: string;
}

export class FlowClient {
  readonly #o: FlowClientOptions;
  // Idle connections close well before the server's keep-alive timeout: a request sent on one the
  // server is closing at that moment fails with "socket hang up".
  readonly #agent = new Agent({ keepAlive: true, timeout: 30_000 });

  constructor(o: FlowClientOptions) {
    this.#o = o;
  }

  close(): void {
    this.#agent.destroy();
  }

  async run(namespace: string, flow: string, user: { id: string; email: string }): Promise<void> {
    const started = await this.#post(
      `/api/v1/namespaces/${namespace}/flows/${flow}/executions`,
      { user },
      this.#o.appToken,
    );
    if (started.body.state !== "code_sent" || !started.body.id || !started.body.token)
      throw new Error(`flow ${flow} for ${user.id}: start answered ${started.status} ${describe(started.body)}`);
    const code = await this.#o.mail.codeFor(user.email);
    const done = await this.#post(`/api/v1/executions/${started.body.id}`, { code }, started.body.token);
    if (done.body.state !== "completed")
      throw new Error(`flow ${flow} for ${user.id}: verify answered ${done.status} ${describe(done.body)}`);
  }

  #post(path: string, body: unknown, token: string): Promise<{ status: number; body: ExecutionBody }> {
    const payload = JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.#o.baseUrl}${path}`,
        {
          method: "POST",
          agent: this.#agent,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(payload),
            authorization: `Bearer ${token}`,
          },
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (text += chunk));
          res.on("error", reject);
          res.on("end", () => {
            try {
              resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as ExecutionBody) : {} });
            } catch (e) {
              reject(new Error(`${path} answered ${res.statusCode} with no JSON: ${String(e)}`));
            }
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }
}

const describe = (b: ExecutionBody): string => (b.code ? `${b.code}: ${b.detail ?? ""}` : `state ${b.state ?? "?"}`);
