/** A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate, made by openssl. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Paths of the PEM files, and their contents. */
export interface TestCerts {
  dir: string;
  caFile: string;
  certFile: string;
  keyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** The server key encrypted with the passphrase "secret". */
  encryptedKeyFile: string;
  pem(path: string): string;
  /** Signed by the CA, expired since 2020. */
  expiredClientCertFile: string;
  expiredClientKeyFile: string;
  /** mosquitto_pub/sub arguments for a TLS connection to 127.0.0.1:`port` that trusts the CA. */
  mosquittoTls(port: number): string[];
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A client certificate of the same CA that expired in 2020 (`openssl ca` sets past dates). */
function _expiredClient(dir: string, ec: string[]): void {
  writeFileSync(
    join(dir, "ca.cnf"),
    "[ca]\ndefault_ca = c\n[c]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n" +
      "default_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n",
  );
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "serial"), "01\n");
  openssl(dir, ["req", ...ec, "-keyout", "expired.key", "-out", "expired.csr", "-subj", "/CN=device-old"]);
  openssl(dir, [
    "ca",
    "-batch",
    "-config",
    "ca.cnf",
    "-cert",
    "ca.pem",
    "-keyfile",
    "ca.key",
    "-in",
    "expired.csr",
    "-out",
    "expired.pem",
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200102000000Z",
    "-extfile",
    "client.ext",
    "-notext",
  ]);
}

/** Generates fresh certificates in a temporary directory (EC P-256: quick to make and to handshake). */
export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "broker-certs-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(dir, [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=test CA",
  ]);
  for (
    const [name, cn, ext] of [
      ["server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
      ["client", "device-1", "extendedKeyUsage=clientAuth"],
    ] as const
  ) {
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    openssl(dir, ["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    ]);
  }
  openssl(dir, ["pkey", "-in", "server.key", "-aes256", "-passout", "pass:secret", "-out", "server.enc.key"]);
  _expiredClient(dir, ec);
  return {
    dir,
    encryptedKeyFile: join(dir, "server.enc.key"),
    caFile: join(dir, "ca.pem"),
    certFile: join(dir, "server.pem"),
    keyFile: join(dir, "server.key"),
    clientCertFile: join(dir, "client.pem"),
    clientKeyFile: join(dir, "client.key"),
    expiredClientCertFile: join(dir, "expired.pem"),
    expiredClientKeyFile: join(dir, "expired.key"),
    pem: (p) => readFileSync(p, "utf8"),
    mosquittoTls: (port) => ["-h", "127.0.0.1", "-p", String(port), "--cafile", join(dir, "ca.pem")],
  };
}
