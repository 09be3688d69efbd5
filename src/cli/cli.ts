/** Command dispatch: start, stop, restart, reload, check, passwd, the client tools, --help, --version. */
import pkg from "../../package.json" with { type: "json" };
import { BUILD_TARGET } from "../build_target.ts";
import { ConfigError } from "../config/config_error.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { CHECK_USAGE, checkCommand } from "./check.ts";
import {
  RELOAD_USAGE,
  reloadCommand,
  RESTART_USAGE,
  restartCommand,
  STOP_USAGE,
  stopCommand,
} from "./control.ts";
import { PASSWD_USAGE, passwdCommand } from "./passwd.ts";
import { runBench, runClientTool } from "../client/client_cli.ts";
import { RULES_USAGE, rulesCommand } from "./rules_command.ts";
import { type CliIo, startCommand } from "./start.ts";
import { START_USAGE } from "./start_flags.ts";

export const USAGE = `Usage: broker <command> [options]

Commands:
  start     run the broker (in the foreground, or in the background with -d)
  stop      stop the running broker (SIGTERM to the pid in the pid file) and wait
  restart   stop, then start with the given options
  reload    make the running broker re-read its configuration without dropping connections
  check     validate a configuration without starting; print the effective one as JSON
  passwd    add, change or delete a user in a password file (hashed)
  pub       publish a message (nanomq_cli's flags; Mosquitto's where they do not clash)
  sub       subscribe and print the messages
  conn      connect clients and hold them
  bench     benchmark a broker: bench pub|sub|conn
  rules     create, list, show, change and delete rules of the running broker (HTTP API)

  broker <command> --help shows a command's options.

Options:
  -h, --help     this text
  -v, --version  print the version
`;

const USAGES: Record<string, string> = {
  start: START_USAGE,
  stop: STOP_USAGE,
  restart: RESTART_USAGE,
  reload: RELOAD_USAGE,
  check: CHECK_USAGE,
  passwd: PASSWD_USAGE,
  rules: RULES_USAGE,
};

/** Runs one command; resolves with the process exit code. */
export async function runCli(argv: string[], rt: Runtime, io: CliIo): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case "-h":
      case "--help":
        io.out(USAGE);
        return cmd === undefined ? 2 : 0;
      case "-v":
      case "--version":
        io.out(`broker ${pkg.version} ${BUILD_TARGET} (${rt.name} ${rt.version})\n`);
        return 0;
      case "start":
        return await startCommand(rest, rt, io);
      case "stop":
        return await stopCommand(rest, rt, io);
      case "restart":
        return await restartCommand(rest, rt, io);
      case "reload":
        return await reloadCommand(rest, rt, io);
      case "check":
        return await checkCommand(rest, rt, io);
      case "passwd":
        return await passwdCommand(rest, rt, io, rt.readSecret);
      case "pub":
      case "sub":
      case "conn":
        return await runClientTool(cmd, rest, rt, io);
      case "bench":
        return await runBench(rest, rt, io);
      case "rules":
        return await rulesCommand(rest, rt, io);
      default:
        io.err(`Unknown command "${cmd}".\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) io.err(`Configuration error: ${e.message}\n`);
    else if ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") === true) {
      io.err(`${(e as Error).message}\n\n${USAGES[cmd ?? ""] ?? USAGE}`);
      return 2;
    } else io.err(`Error: ${(e as Error).message}\n`);
    return 1;
  }
}
