// A whole flow as an application and its user run it over the operator's HTTP API: start the
// flow for a user with a known address, read the code from the mailbox, submit it. Anything
// but a completed flow is an error: the benchmark counts only completed flows.
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

  constructor(o: FlowClientOptions) {
    this.#o = o;
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

  async #post(path: string, body: unknown, token: string): Promise<{ status: number; body: ExecutionBody }> {
    const res = await fetch(`${this.#o.baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as ExecutionBody) : {} };
  }
}

const describe = (b: ExecutionBody): string => (b.code ? `${b.code}: ${b.detail ?? ""}` : `state ${b.state ?? "?"}`);
