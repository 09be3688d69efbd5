/** Reading the files a configuration names (certificates, ACL files), with errors that name the key. */
import { ConfigError } from "../config/config_error.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { ClientTlsOptions } from "../runtime/tls_options.ts";

/** Reads a file the configuration names; a failure is a ConfigError naming `key`. */
export async function readConfigFile(
  rt: Runtime,
  path: string,
  source: string,
  key: string,
): Promise<string> {
  try {
    return await rt.readTextFile(path);
  } catch (e) {
    throw new ConfigError(source, 0, key, `cannot read "${path}" (${(e as Error).message}); check the path`);
  }
}

/** The `ssl { }` of an outgoing connection (a bridge, HTTP authentication), its files read. */
export interface ClientSslConfig {
  cacertfile: string | null;
  certfile: string | null;
  keyfile: string | null;
  key_password: string | null;
  verify_peer: boolean;
}

/**
 * Reads a client `ssl { }` section: the server's certificate is verified when `verify_peer` is
 * set or a `cacertfile` is given (NanoMQ's rule).
 */
export async function readClientTls(
  rt: Runtime,
  s: ClientSslConfig,
  path: string,
  source: string,
): Promise<ClientTlsOptions> {
  const t: ClientTlsOptions = { rejectUnauthorized: s.verify_peer || s.cacertfile !== null };
  if (s.cacertfile !== null) t.ca = await readConfigFile(rt, s.cacertfile, source, `${path}.cacertfile`);
  if (s.certfile !== null) t.cert = await readConfigFile(rt, s.certfile, source, `${path}.certfile`);
  if (s.keyfile !== null) t.key = await readConfigFile(rt, s.keyfile, source, `${path}.keyfile`);
  if (s.key_password !== null) t.passphrase = s.key_password;
  return t;
}
