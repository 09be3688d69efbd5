/** Reading the files a configuration names (certificates, ACL files), with errors that name the key. */
import { ConfigError } from "../config/config_error.ts";
import type { Runtime } from "../runtime/runtime.ts";

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
