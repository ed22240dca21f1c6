// A real SMTP server process (Mailpit) on free loopback ports, with its HTTP API for reading
// what arrived. TLS modes and AUTH are opt-in so mail tests can cover each variant.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";
import { type Managed, ProcessGroup } from "./processes.ts";
import { tool } from "./paths.ts";
import { waitFor } from "./wait.ts";

export interface MailpitOptions {
  dir?: string;
  /** PEM files; `starttls` requires STARTTLS, `implicit` is TLS from the first byte. */
  tls?: { mode: "starttls" | "implicit"; certFile: string; keyFile: string };
  /** htpasswd-style file ("user:password" lines); AUTH is then required. */
  authFile?: string;
}

export interface MailSummary {
  ID: string;
  From: { Address: string; Name: string };
  To: { Address: string; Name: string }[];
  Subject: string;
  Created: string;
}

export interface MailMessage extends MailSummary {
  Text: string;
  HTML: string;
}

export class Mailpit {
  readonly smtpPort: number;
  readonly httpUrl: string;
  #group: ProcessGroup;
  #process: Managed;
  #dir: string;
  #ownsDir: boolean;

  private constructor(
    smtpPort: number,
    httpUrl: string,
    group: ProcessGroup,
    process: Managed,
    dir: string,
    ownsDir: boolean,
  ) {
    this.smtpPort = smtpPort;
    this.httpUrl = httpUrl;
    this.#group = group;
    this.#process = process;
    this.#dir = dir;
    this.#ownsDir = ownsDir;
  }

  static async start(options: MailpitOptions = {}): Promise<Mailpit> {
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), "eao-mailpit-"));
    const [smtpPort, httpPort] = [await freePort(), await freePort()];
    const args = [
      `--smtp=127.0.0.1:${smtpPort}`,
      `--listen=127.0.0.1:${httpPort}`,
      `--database=${join(dir, "mailpit.db")}`,
      "--disable-version-check",
      "--smtp-disable-rdns",
      "--quiet",
    ];
    if (options.tls) {
      args.push(`--smtp-tls-cert=${options.tls.certFile}`, `--smtp-tls-key=${options.tls.keyFile}`);
      args.push(options.tls.mode === "starttls" ? "--smtp-require-starttls" : "--smtp-require-tls");
    }
    if (options.authFile) args.push(`--smtp-auth-file=${options.authFile}`);
    else args.push("--smtp-auth-accept-any");
    // Mailpit refuses AUTH over plain connections unless told otherwise; a test relay may allow it.
    if (!options.tls) args.push("--smtp-auth-allow-insecure");
    const group = new ProcessGroup();
    const process = group.start("mailpit", tool("mailpit"), args, join(dir, "mailpit.log"));
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    const mailpit = new Mailpit(smtpPort, httpUrl, group, process, dir, options.dir === undefined);
    try {
      await waitFor(async () => ((await fetch(`${httpUrl}/api/v1/info`)).ok ? true : undefined), {
        what: "Mailpit's HTTP API",
        timeoutMs: 20_000,
        failFast: () => process.exitError(),
      });
    } catch (e) {
      await mailpit.stop();
      throw e;
    }
    return mailpit;
  }

  get pid(): number {
    return this.#process.pid;
  }

  async messages(): Promise<MailSummary[]> {
    const body = (await this.#get("/api/v1/messages?limit=500")) as { messages: MailSummary[] };
    return body.messages;
  }

  async message(id: string): Promise<MailMessage> {
    return (await this.#get(`/api/v1/message/${encodeURIComponent(id)}`)) as MailMessage;
  }

  /** A message's headers as the relay parsed them, decoded; each name with its values. */
  async headers(id: string): Promise<Record<string, string[]>> {
    return (await this.#get(`/api/v1/message/${encodeURIComponent(id)}/headers`)) as Record<string, string[]>;
  }

  /** Waits for a message to `to` and returns it whole. */
  async waitForMessageTo(to: string, timeoutMs = 15_000): Promise<MailMessage> {
    const summary = await waitFor(async () => (await this.messages()).find((m) => m.To.some((r) => r.Address === to)), {
      what: `a message to ${to}`,
      timeoutMs,
      intervalMs: 100,
    });
    return this.message(summary.ID);
  }

  async deleteAll(): Promise<void> {
    const res = await fetch(`${this.httpUrl}/api/v1/messages`, { method: "DELETE" });
    if (!res.ok) throw new Error(`Mailpit DELETE messages: ${res.status}`);
  }

  async stop(): Promise<void> {
    await this.#group.stop(this.#process);
    this.#group.dispose();
    if (this.#ownsDir) rmSync(this.#dir, { recursive: true, force: true });
  }

  async #get(path: string): Promise<unknown> {
    const res = await fetch(`${this.httpUrl}${path}`);
    if (!res.ok) throw new Error(`Mailpit GET ${path}: ${res.status}`);
    return res.json();
  }
}
