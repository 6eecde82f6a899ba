import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** PEM files for TLS tests: a CA, a server certificate for localhost/127.0.0.1, and client certificates. */
export interface TestCertificates {
  dir: string;
  /** Paths */
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** A client certificate the CA signed. */
  clientCert: string;
  clientKey: string;
  /** A client certificate another CA signed (mTLS must refuse it). */
  strangerCert: string;
  strangerKey: string;
  read(path: string): Buffer;
  remove(): void;
}

/** Makes fresh certificates with the `openssl` command (short-lived, EC P-256) in a temp dir. */
export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "edge-certs-"));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const key = (name: string) =>
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", at(name));
  const selfSigned = (name: string, cn: string) => {
    key(`${name}.key`);
    openssl(
      "req",
      "-x509",
      "-new",
      "-key",
      at(`${name}.key`),
      "-out",
      at(`${name}.crt`),
      "-subj",
      `/CN=${cn}`,
      "-days",
      "2",
    );
  };
  const signed = (name: string, cn: string, ca: string, extensions: string) => {
    key(`${name}.key`);
    openssl("req", "-new", "-key", at(`${name}.key`), "-out", at(`${name}.csr`), "-subj", `/CN=${cn}`);
    writeFileSync(at(`${name}.ext`), extensions);
    openssl(
      "x509",
      "-req",
      "-in",
      at(`${name}.csr`),
      "-CA",
      at(`${ca}.crt`),
      "-CAkey",
      at(`${ca}.key`),
      "-CAcreateserial",
      "-out",
      at(`${name}.crt`),
      "-days",
      "2",
      "-extfile",
      at(`${name}.ext`),
    );
  };
  try {
    selfSigned("ca", "edge test CA");
    selfSigned("other-ca", "another CA");
    signed(
      "server",
      "localhost",
      "ca",
      "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    );
    signed("client", "fra-1", "ca", "extendedKeyUsage=clientAuth\n");
    signed("stranger", "intruder", "other-ca", "extendedKeyUsage=clientAuth\n");
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    caCert: at("ca.crt"),
    serverCert: at("server.crt"),
    serverKey: at("server.key"),
    clientCert: at("client.crt"),
    clientKey: at("client.key"),
    strangerCert: at("stranger.crt"),
    strangerKey: at("stranger.key"),
    read: (path) => readFileSync(path),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
