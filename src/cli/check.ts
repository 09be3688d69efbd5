/** `broker check`: validate the configuration as start would, print the effective one as JSON. */
import { ConfigError } from "../config/config_error.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { loadSettings } from "./load_settings.ts";
import type { CliIo } from "./start.ts";
import { parseStartFlags } from "./start.ts";

export const CHECK_USAGE = `Usage: broker check [--conf FILE] [start options]

Validates the configuration exactly as broker start would (file, NANOMQ_* variables, flags,
included files, certificate and ACL files) without starting. Warnings and errors go to stderr,
the effective configuration as JSON to stdout (secrets hidden). Exit 0: it would start; 1: not.
`;

/** Keys whose values are secrets. */
const SECRET = /^(password|key_password)$/;

/** `broker check`. */
export async function checkCommand(args: string[], rt: Runtime, io: CliIo): Promise<number> {
  const flags = parseStartFlags(args);
  if (flags.help === true) {
    io.out(CHECK_USAGE);
    return 0;
  }
  try {
    const st = await loadSettings(rt, flags);
    for (const n of st.notices) io.err(`warning: ${n}\n`);
    for (const w of st.loaded.warnings) io.err(`warning: ${w}\n`);
    io.out(`${JSON.stringify(st.loaded.config, _hide, 2)}\n`);
    const n = st.loaded.warnings.length + st.notices.length;
    io.err(`${st.loaded.source}: OK (${n} warning${n === 1 ? "" : "s"})\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.err(`error: ${e.message}\n`);
    return 1;
  }
}

function _hide(this: unknown, key: string, value: unknown): unknown {
  if (!SECRET.test(key) || value === null) return value;
  if (typeof value === "object") {
    return Object.fromEntries(Object.keys(value as object).map((k) => [k, "(hidden)"]));
  }
  return "(hidden)";
}
