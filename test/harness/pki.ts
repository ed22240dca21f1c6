// A throwaway CA and a server certificate for 127.0.0.1 and some DNS names (localhost unless told),
// for TLS tests (SMTP relays with a private CA, the operator's API). openssl does the work; Node's crypto cannot issue certificates.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestPki {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  caPem: string;
}

export function createTestPki(
  dir = mkdtempSync(join(tmpdir(), "eao-pki-")),
  dnsNames: readonly string[] = ["localhost"],
): TestPki {
  const at = (f: string) => join(dir, f);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=eao test CA",
    "-keyout",
    at("ca.key"),
    "-out",
    at("ca.crt"),
  );
  openssl(
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-subj",
    `/CN=${dnsNames[0] ?? "localhost"}`,
    "-keyout",
    at("server.key"),
    "-out",
    at("server.csr"),
  );
  writeFileSync(
    at("san.ext"),
    `subjectAltName=${dnsNames.map((n) => `DNS:${n},`).join("")}IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(
    "x509",
    "-req",
    "-in",
    at("server.csr"),
    "-CA",
    at("ca.crt"),
    "-CAkey",
    at("ca.key"),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    at("san.ext"),
    "-out",
    at("server.crt"),
  );
  return {
    dir,
    caFile: at("ca.crt"),
    certFile: at("server.crt"),
    keyFile: at("server.key"),
    caPem: readFileSync(at("ca.crt"), "utf8"),
  };
}
