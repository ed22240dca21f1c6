// The pieces of a running stack on the node, shared by the e2e tests and `npm run dev:cluster`:
// the in-cluster Mailpit, the HTTP API's certificate, and the chart installed with the local image.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chartDir } from "../helm.ts";
import { createTestPki } from "../pki.ts";
import { waitFor } from "../wait.ts";
import { MAILPIT_IMAGE, OPERATOR_IMAGE, splitImage } from "./images.ts";
import { nodeTool } from "./layout.ts";

export type Kubectl = (args: readonly string[], input?: string) => string;

export const OPERATOR_NS = "email-authenticator-system";
export const RELEASE = "email-authenticator-operator";
export const MAILPIT_SMTP_HOST = "mailpit.mail.svc.cluster.local";
export const MAILPIT_SMTP_PORT = 1025;
/** The Secret the operator reads its serving certificate from by default (api.tls.secretName empty). */
export const API_TLS_SECRET = "email-authenticator-api-tls";

export interface InstalledMailpit {
  url: string;
  /** The code in the newest message to `to`, once more than `after` messages reached it. */
  codeFor(to: string, after?: number): Promise<string>;
}

interface Summary {
  ID: string;
  To: { Address: string }[];
}

/** Mailpit in namespace `mail`, read from the host through its ClusterIP (kube-proxy's rules cover the host). */
export async function installMailpit(kubectl: Kubectl): Promise<InstalledMailpit> {
  const manifest = readFileSync(join(import.meta.dirname, "mailpit.yaml"), "utf8").replace(
    "MAILPIT_IMAGE",
    MAILPIT_IMAGE,
  );
  kubectl(["apply", "-f", "-"], manifest);
  kubectl(["-n", "mail", "rollout", "status", "deployment/mailpit", "--timeout=120s"]);
  const ip = kubectl(["-n", "mail", "get", "service", "mailpit", "-o", "jsonpath={.spec.clusterIP}"]);
  const url = `http://${ip}:8025`;
  await waitFor(async () => ((await fetch(`${url}/api/v1/info`)).ok ? true : undefined), {
    what: "Mailpit through its Service",
    timeoutMs: 20_000,
  });
  const messages = async (): Promise<Summary[]> =>
    ((await (await fetch(`${url}/api/v1/messages?limit=500`)).json()) as { messages: Summary[] }).messages;
  return {
    url,
    async codeFor(to, after = 0) {
      const summary = await waitFor(
        async () => {
          const mine = (await messages()).filter((m) => m.To.some((r) => r.Address === to));
          return mine.length > after ? mine[0] : undefined;
        },
        { what: `mail number ${after + 1} to ${to}`, timeoutMs: 30_000, intervalMs: 200 },
      );
      const message = (await (await fetch(`${url}/api/v1/message/${summary.ID}`)).json()) as { Text: string };
      const match = /^\s+(\d{6,10})\s*$/m.exec(message.Text);
      if (!match?.[1]) throw new Error(`no code in the mail:\n${message.Text}`);
      return match[1];
    },
  };
}

export interface ApiCertificate {
  caFile: string;
  caPem: string;
}

/**
 * The API's serving certificate as cert-manager would write it: a throwaway CA signs the
 * Service's names (and localhost, for a port-forward), stored in the Secret the chart names.
 */
export function createApiCertificate(kubectl: Kubectl, dir = mkdtempSync(join(tmpdir(), "api-tls-"))): ApiCertificate {
  const svc = `${RELEASE}.${OPERATOR_NS}.svc`;
  const pki = createTestPki(dir, [svc, RELEASE, `${RELEASE}.${OPERATOR_NS}`, `${svc}.cluster.local`, "localhost"]);
  const secret = kubectl([
    "-n",
    OPERATOR_NS,
    "create",
    "secret",
    "tls",
    API_TLS_SECRET,
    `--cert=${pki.certFile}`,
    `--key=${pki.keyFile}`,
    "--dry-run=client",
    "-o",
    "yaml",
  ]);
  kubectl(["apply", "-f", "-"], secret);
  return { caFile: pki.caFile, caPem: pki.caPem };
}

/** The chart values for the node: the local image, never pulled, and the in-cluster Mailpit as relay. */
export function localValues(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { repository, tag } = splitImage(OPERATOR_IMAGE);
  return {
    image: { repository, tag, pullPolicy: "Never" },
    globalSettings: {
      create: true,
      host: MAILPIT_SMTP_HOST,
      port: MAILPIT_SMTP_PORT,
      fromAddress: "codes@example.com",
    },
    ...extra,
  };
}

export function helmUpgradeInstall(kubeconfig: string, values: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), "values-")), "values.json");
  writeFileSync(file, JSON.stringify(values));
  return execFileSync(
    nodeTool("helm"),
    [
      "--kubeconfig",
      kubeconfig,
      "upgrade",
      "--install",
      RELEASE,
      chartDir,
      "-n",
      OPERATOR_NS,
      "--values",
      file,
      "--wait",
      "--timeout",
      "180s",
    ],
    {
      encoding: "utf8",
      timeout: 240_000,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: tmpdir(),
        HELM_CONFIG_HOME: join(tmpdir(), "helm-unused"),
        HELM_CACHE_HOME: join(tmpdir(), "helm-unused"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
}
