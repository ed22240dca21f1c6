// Feeds the API's TLS listener from a kubernetes.io/tls Secret in the operator's namespace (what
// cert-manager writes), watched by name: a renewed certificate reaches new connections within a
// watch event, on every replica, without a restart. A missing or broken Secret keeps the last
// good certificate and says why in the log; the key is never logged.
import type { KubernetesObject, Secret } from "@emailauth/operator-runtime";
import type { Logger } from "pino";
import type { ApiListener, CertificatePair } from "../http/tls-server.ts";
import { type InformerDeps, singleObjectWatches } from "./informers.ts";
import type { SingleObjectWatch } from "@emailauth/operator-runtime";

export interface ServingCertificateOptions extends InformerDeps {
  namespace: string;
  name: string;
  listener: ApiListener;
  onLoaded?: (notAfter: Date) => void;
}

export interface ServingCertificate {
  /** True once a certificate serves. */
  ready(): boolean;
  stop(): Promise<void>;
}

/** The PEM pair in a kubernetes.io/tls Secret as the watch delivers it (null: no such Secret). */
export function pairOf(object: unknown): CertificatePair | undefined {
  const data = (object as Secret | null | undefined)?.data;
  const cert = data?.["tls.crt"];
  const key = data?.["tls.key"];
  if (!cert || !key) return undefined;
  return { cert: Buffer.from(cert, "base64").toString("utf8"), key: Buffer.from(key, "base64").toString("utf8") };
}

export function watchServingCertificate(o: ServingCertificateOptions): ServingCertificate {
  const log: Logger = o.log.child({ component: "tls", secret: `${o.namespace}/${o.name}` });
  let watch: SingleObjectWatch<KubernetesObject> | undefined = undefined;
  const reload = () => {
    if (!watch?.hasSynced()) return;
    const pair = pairOf(watch.get());
    if (!pair) {
      log.warn(
        o.listener.current()
          ? "the serving certificate Secret is missing or has no tls.crt/tls.key; keeping the current certificate"
          : "waiting for the serving certificate Secret (tls.crt, tls.key); TLS handshakes fail until it exists",
      );
      return;
    }
    const before = o.listener.current()?.fingerprint;
    const checked = o.listener.useCertificate(pair);
    if (!checked.ok) {
      log.error({ reason: checked.reason }, "refused the serving certificate; keeping the current one");
      return;
    }
    if (checked.certificate.fingerprint === before) return;
    o.onLoaded?.(checked.certificate.notAfter);
    log.info(
      {
        fingerprint: checked.certificate.fingerprint,
        subject: checked.certificate.subject,
        notAfter: checked.certificate.notAfter.toISOString(),
      },
      "serving certificate loaded",
    );
  };
  watch = singleObjectWatches(o)({ kind: "Secret", namespace: o.namespace, name: o.name }, reload);
  // The first event may come before `watch` is assigned; poll until the initial list is in.
  const first = setInterval(() => {
    if (!watch?.hasSynced()) return;
    clearInterval(first);
    reload();
  }, 50);
  return {
    ready: () => o.listener.current() !== undefined,
    async stop() {
      clearInterval(first);
      await watch?.stop();
    },
  };
}
