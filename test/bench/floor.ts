// The floor a flow is measured against: the API calls a flow cannot do without, made directly
// by one client (the operator's own identity and Kubernetes client) at the same concurrency, plus
// one pooled SMTP send per flow and the same mailbox read the flow's user does. Its call mix is
// issue 9's budget (Setup 12 requests / 8 writes, Authenticate 9 / 6) on Secrets and
// EmailDevices of the operator's shapes: the Secrets where the operator keeps its records (its own
// namespace), with as many labels; the devices in a namespace the operator does not watch, with
// the labels, spec and status (the brief's conditions) the operator writes, since the API server's
// cost of a write grows with the object it rewrites.
import { randomBytes, randomInt } from "node:crypto";
import type { CoreApi, CustomObjectsApi, Secret } from "@emailauth/operator-runtime";
import { createTransport } from "nodemailer";
import { firstConfirmedStatus } from "../../src/devices/device-status.ts";
import { GROUP, VERSION } from "../../src/kinds/v1alpha1/common.ts";
import {
  COMPONENT_LABEL,
  EXPIRES_AT_ANNOTATION,
  STAGE_LABEL,
  STAGE_NAMESPACE_LABEL,
  STAGE_UID_LABEL,
} from "../../src/kinds/labels.ts";
import type { MailReader } from "./mail-reader.ts";

export interface FloorOptions {
  core: CoreApi;
  custom: CustomObjectsApi;
  /** Where the devices go. */
  namespace: string;
  /** Where the Secrets go: the operator's namespace, as its records. */
  secretsNamespace: string;
  smtp: { host: string; port: number };
  mail: MailReader;
}

const devices = { group: GROUP, version: VERSION, plural: "emaildevices" } as const;
/** A stage uid of the length of a real one, for the records' labels. */
const FLOOR_STAGE_UID = "00000000-0000-4000-8000-000000000000";
/** Devices the Authenticate floor marks used; shared by flows like a real stage's devices. */
export const FLOOR_DEVICES = 64;

export class Floor {
  readonly #o: FloorOptions;
  readonly #transport: ReturnType<typeof createTransport>;
  readonly #run = randomBytes(3).toString("hex");

  constructor(o: FloorOptions) {
    this.#o = o;
    // The operator's mailer: a pool of two connections per relay.
    this.#transport = createTransport({
      host: o.smtp.host,
      port: o.smtp.port,
      secure: false,
      ignoreTLS: true,
      pool: true,
      maxConnections: 2,
    });
  }

  /** Devices for the Authenticate floor, created before it is timed. */
  async prepare(): Promise<void> {
    for (let i = 0; i < FLOOR_DEVICES; i++) {
      const name = `floor-device-${this.#run}-${i}`;
      await this.#createDevice(name, `floor-${i}`, `floor-${i}@bench.example`);
      await this.#writeFirstStatus(name);
    }
  }

  /** Setup: 4 reads, 8 writes (execution, challenge, send throttle; attempt, use; device and its status; result). */
  async setup(i: number): Promise<void> {
    const { x, t, to, execution } = await this.#codeVerified(`s${i}`);
    await this.#get(t);
    const device = `floor-${this.#run}-${i}`;
    await this.#createDevice(device, device, to);
    await this.#writeFirstStatus(device);
    await this.#replace(execution, "completed");
    await this.#get(x);
  }

  /** Authenticate: 3 reads, 6 writes (execution, challenge, send throttle; attempt, use; device status). */
  async authenticate(i: number): Promise<void> {
    const { x } = await this.#codeVerified(`a${i}`);
    await this.#markUsed(`floor-device-${this.#run}-${i % FLOOR_DEVICES}`);
    await this.#get(x);
  }

  /**
   * What both kinds begin with: the records created, the code sent and read from the mailbox,
   * the execution and its challenge read, the attempt counted, the challenge used up.
   */
  async #codeVerified(id: string) {
    const { x, c, t } = this.#names(id);
    await this.#create(x, record(900));
    await this.#create(c, record(300));
    await this.#create(t, record(120));
    const to = `${x}@bench.example`;
    await this.#send(to);
    const code = await this.#o.mail.codeFor(to);
    const execution = await this.#get(x);
    const challenge = await this.#get(c);
    const counted = await this.#replace(challenge, code);
    await this.#delete(c, counted);
    return { x, t, to, execution };
  }

  close(): void {
    this.#transport.close();
  }

  #names(id: string) {
    const base = `${this.#run}-${id}`;
    return { x: `floor-x-${base}`, c: `floor-c-${base}`, t: `floor-t-${base}` };
  }

  #create(name: string, data: Record<string, string>): Promise<Secret> {
    return this.#o.core.createNamespacedSecret({
      namespace: this.#o.secretsNamespace,
      body: {
        metadata: {
          name,
          // The record's labels and expiry annotation, under a component the sweeper leaves alone.
          labels: {
            "app.kubernetes.io/managed-by": "email-authenticator-floor",
            [COMPONENT_LABEL]: "floor",
            [STAGE_NAMESPACE_LABEL]: this.#o.namespace,
            [STAGE_LABEL]: "floor",
            [STAGE_UID_LABEL]: FLOOR_STAGE_UID,
          },
          annotations: { [EXPIRES_AT_ANNOTATION]: new Date(Date.now() + 3_600_000).toISOString() },
        },
        type: "emailauth.dev/floor",
        data,
      },
    });
  }

  /** An EmailDevice as a Setup flow creates it. */
  async #createDevice(name: string, user: string, email: string): Promise<void> {
    await this.#o.custom.createNamespacedCustomObject({
      ...devices,
      namespace: this.#o.namespace,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: "EmailDevice",
        metadata: {
          name,
          labels: { "app.kubernetes.io/managed-by": "email-authenticator-floor", [STAGE_LABEL]: "floor" },
        },
        spec: { stageRef: { name: "floor" }, user: { id: user }, email, confirmed: true },
      },
      fieldValidation: "Strict",
    });
  }

  /** The whole first status a Setup flow writes: times and the brief's conditions. */
  async #writeFirstStatus(name: string): Promise<void> {
    await this.#o.custom.patchNamespacedCustomObjectStatus({
      ...devices,
      namespace: this.#o.namespace,
      name,
      body: { status: firstConfirmedStatus(this.#o.namespace, "floor", 1, new Date()) },
    });
  }

  #get(name: string): Promise<Secret> {
    return this.#o.core.readNamespacedSecret({ namespace: this.#o.secretsNamespace, name });
  }

  /** A preconditioned replace, as every record write is. */
  #replace(secret: Secret, marker: string): Promise<Secret> {
    return this.#o.core.replaceNamespacedSecret({
      namespace: this.#o.secretsNamespace,
      name: secret.metadata?.name ?? "",
      body: { ...secret, data: { ...secret.data, marker: Buffer.from(marker).toString("base64") } },
    });
  }

  async #delete(name: string, current: Secret): Promise<void> {
    await this.#o.core.deleteNamespacedSecret({
      namespace: this.#o.secretsNamespace,
      name,
      body: { preconditions: { uid: current.metadata?.uid, resourceVersion: current.metadata?.resourceVersion } },
    });
  }

  async #markUsed(name: string): Promise<void> {
    const at = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    await this.#o.custom.patchNamespacedCustomObjectStatus({
      ...devices,
      namespace: this.#o.namespace,
      name,
      body: { status: { lastUsedAt: at } },
    });
  }

  async #send(to: string): Promise<void> {
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    await this.#transport.sendMail({
      from: "codes@bench.example",
      to,
      subject: "Your sign-in code",
      text: `Your code:\n\n    ${code}\n\nIt expires in 10 minutes.\n`,
      html: `<!doctype html><html><body><p>Your code:</p><p style="font-size:24px">${code}</p>${"<p>&nbsp;</p>".repeat(60)}</body></html>`,
    });
  }
}

/** A record of about `bytes` bytes of JSON, base64 in data.record like the operator's. */
function record(bytes: number): Record<string, string> {
  return { record: Buffer.from(JSON.stringify({ pad: "x".repeat(bytes) })).toString("base64") };
}
