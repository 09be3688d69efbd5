/**
 * `broker passwd FILE USER`: add or change a user in a NanoMQ password file (`"user": "secret"`
 * lines) with a hashed password, as mosquitto_passwd does. Other lines and comments are kept.
 */
import { parseArgs } from "node:util";
import { hashPassword } from "../auth/password_hash.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { CliIo } from "./start.ts";

export const PASSWD_USAGE =
  `Usage: broker passwd [-c] [--scrypt | --scram] FILE USER        (asks for the password on stdin)
       broker passwd -b [-c] [--scrypt | --scram] FILE USER PASSWORD
       broker passwd -D FILE USER

Adds or changes USER in FILE, a password list for auth.password = {include "FILE"}, with a
PBKDF2-SHA512 hash in Mosquitto's $7$ format (or scrypt with --scrypt). --scram keeps the
SCRAM-SHA-1 and SCRAM-SHA-256 keys instead, so that the user can also sign in by MQTT 5 enhanced
authentication (a CONNECT with a password works as well).
  -c        create FILE (overwriting it)
  -b        take the password from the command line
  -D        delete USER
`;

/** `broker passwd`. */
export async function passwdCommand(
  args: string[],
  rt: Runtime,
  io: CliIo,
  readSecret: () => Promise<string>,
) {
  const { values, positionals } = parseArgs({
    args,
    options: {
      c: { type: "boolean", short: "c" },
      b: { type: "boolean", short: "b" },
      D: { type: "boolean", short: "D" },
      scrypt: { type: "boolean" },
      scram: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help === true) {
    io.out(PASSWD_USAGE);
    return 0;
  }
  const [file, user, given] = positionals;
  if (file === undefined || user === undefined || positionals.length !== (values.b === true ? 3 : 2)) {
    io.err(`Wrong arguments.\n\n${PASSWD_USAGE}`);
    return 2;
  }
  let text = "";
  if (values.c !== true) {
    try {
      text = await rt.readTextFile(file);
    } catch (e) {
      io.err(`Cannot read ${file} (${(e as Error).message}); use -c to create it\n`);
      return 1;
    }
  }
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const at = lines.findIndex((l) => _userOf(l) === user);
  if (values.D === true) {
    if (at < 0) {
      io.err(`User "${user}" is not in ${file}\n`);
      return 1;
    }
    lines.splice(at, 1);
  } else {
    const password = given ?? (await readSecret());
    if (password === "") {
      io.err("An empty password is not allowed\n");
      return 1;
    }
    const entry = `${JSON.stringify(user)}: ${
      JSON.stringify(
        await hashPassword(
          password,
          values.scram === true ? "scram" : values.scrypt === true ? "scrypt" : "pbkdf2",
        ),
      )
    }`;
    if (at < 0) lines.push(entry);
    else lines[at] = entry;
  }
  await rt.writeTextFile(file, lines.length === 0 ? "" : `${lines.join("\n")}\n`);
  return 0;
}

/** The user name a `"user": "secret"` (or `user = secret`) line sets, or null. */
function _userOf(line: string): string | null {
  const m = /^\s*(?:"((?:[^"\\]|\\.)*)"|([^\s:="#]+))\s*[:=]/.exec(line);
  if (m === null) return null;
  if (m[2] !== undefined) return m[2];
  try {
    return JSON.parse(`"${m[1]}"`) as string;
  } catch {
    return null;
  }
}
