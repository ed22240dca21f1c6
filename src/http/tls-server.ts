// The API's listener. TLS by default, with a certificate that can change while serving: a new
// pair is checked, then installed with setSecureContext, so new connections get it and open
// ones keep theirs (cert-manager renews without a restart). Until a first pair arrives every
// handshake fails. Plain HTTP only when the configuration asks for it.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { createServer as createHttpServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { createSecureContext, type SecureContextOptions } from "node:tls";

/** PEM text as a kubernetes.io/tls Secret holds it. */
export interface CertificatePair {
  cert: string;
  key: string;
}

export interface LoadedCertificate {
  /** SHA-256 fingerprint of the leaf: safe to log. */
  fingerprint: string;
  notAfter: Date;
  subject: string;
}

export type CheckedPair = { ok: true; certificate: LoadedCertificate } | { ok: false; reason: string };

const TLS_OPTIONS: SecureContextOptions = { minVersion: "TLSv1.2" };

/** Whether the pair can serve: parseable, the key matches the leaf. Never echoes key material. */
export function checkPair(pair: CertificatePair): CheckedPair {
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(pair.cert);
  } catch {
    return { ok: false, reason: "tls.crt is not a PEM certificate" };
  }
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(pair.key)))
      return { ok: false, reason: "tls.key does not belong to the certificate in tls.crt" };
    createSecureContext({ ...TLS_OPTIONS, cert: pair.cert, key: pair.key });
  } catch {
    return { ok: false, reason: "tls.key is not a usable PEM private key for tls.crt" };
  }
  return {
    ok: true,
    certificate: { fingerprint: leaf.fingerprint256, notAfter: new Date(leaf.validTo), subject: leaf.subject },
  };
}

export interface ApiListener {
  server: Server | HttpsServer;
  /** Installs a new certificate for new connections; a bad pair is refused and the old one kept. */
  useCertificate(pair: CertificatePair): CheckedPair;
  /** The certificate new connections get; undefined before the first, or with plain HTTP. */
  current(): LoadedCertificate | undefined;
  readonly tls: boolean;
  /**
   * Stops accepting, lets requests in flight finish, and closes each connection as soon as it
   * is idle: server.close() alone closes the idle ones once, and a connection that was busy then
   * would stay open for the whole keep-alive timeout, longer than a Pod's grace period.
   */
  close(): Promise<void>;
}

/**
 * How long an idle keep-alive connection stays open. Node's default is 5 s, shorter than the
 * pools of the proxies in front of an API like this one (ingress-nginx's upstream keep-alive and
 * AWS load balancers idle 60 s): the server would close a connection the proxy still holds, and
 * a request sent on it at that moment fails (a 502 from the proxy, "socket hang up" for a
 * client). The side that pools must be the first to close, so the server waits longer.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Slow-client limits (headers are timed from a request's first byte, not from idle time). */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;

function withTimeouts<S extends Server | HttpsServer>(server: S): S {
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  return server;
}

const REAP_INTERVAL_MS = 50;

async function closeServer(server: Server | HttpsServer): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  const reaper = setInterval(() => server.closeIdleConnections(), REAP_INTERVAL_MS);
  try {
    await closed;
  } finally {
    clearInterval(reaper);
  }
}

export function createApiListener(app: RequestListener, tls: boolean): ApiListener {
  if (!tls) {
    const server = withTimeouts(createHttpServer(app));
    return {
      server,
      tls,
      useCertificate: () => ({ ok: false, reason: "the API serves plain HTTP (--insecure-http)" }),
      current: () => undefined,
      close: () => closeServer(server),
    };
  }
  // No certificate yet: handshakes fail until useCertificate installs one.
  const server = withTimeouts(createHttpsServer(TLS_OPTIONS, app));
  let current: LoadedCertificate | undefined;
  return {
    server,
    tls,
    useCertificate(pair) {
      const checked = checkPair(pair);
      if (!checked.ok || checked.certificate.fingerprint === current?.fingerprint) return checked;
      server.setSecureContext({ ...TLS_OPTIONS, cert: pair.cert, key: pair.key });
      current = checked.certificate;
      return checked;
    },
    current: () => current,
    close: () => closeServer(server),
  };
}
