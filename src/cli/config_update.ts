/**
 * `POST /api/v4/config_update`: a new configuration file, taken only when it loads as `broker
 * start` would load it (includes, certificate and ACL files, environment and flags included).
 * The running broker is not changed: a reload or a restart applies the file.
 */
import type { ConfigUpdate } from "../admin/api_types.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { loadSettings } from "./load_settings.ts";
import type { StartFlags } from "./start_flags.ts";

/**
 * Checks `text` as the configuration `conf` and, when it loads, writes it there; the previous file
 * is kept as `<conf>.bak`. Nothing is written when it is refused.
 */
export async function updateConfigFile(
  rt: Runtime,
  flags: StartFlags,
  conf: string | null,
  text: string,
): Promise<ConfigUpdate> {
  if (conf === null) {
    return {
      refused:
        "The broker runs on its built-in defaults, so there is no file to update: start it with --conf FILE",
    };
  }
  // beside the file, with its extension: includes resolve alike and the format is the same
  const next = conf.replace(/(\.[^./]*)?$/, ".new$1");
  const backup = `${conf}.bak`;
  try {
    await rt.writeTextFile(next, text);
  } catch (e) {
    return {
      failed: `Cannot write ${next}: ${(e as Error).message}; the broker needs write access to that folder`,
    };
  }
  try {
    await loadSettings(rt, flags, next);
  } catch (e) {
    rt.removeFile(next);
    return { refused: (e as Error).message.replaceAll(next, "the new configuration") };
  }
  try {
    await rt.writeTextFile(backup, await rt.readTextFile(conf));
    rt.renameFile(next, conf);
  } catch (e) {
    rt.removeFile(next);
    return { failed: `Cannot replace ${conf}: ${(e as Error).message}` };
  }
  return { written: conf, backup };
}
