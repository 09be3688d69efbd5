/** Command dispatch: `broker start`, `--help`, `--version`. */
import pkg from "../../package.json" with { type: "json" };
import { ConfigError } from "../config/config_error.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { type CliIo, START_USAGE, startCommand } from "./start.ts";

export const USAGE = `Usage: broker <command> [options]

Commands:
  start        run the broker in the foreground (broker start --help for its options)

Options:
  -h, --help     this text
  -v, --version  print the version
`;

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
        io.out(`broker ${pkg.version} (${rt.name} ${rt.version})\n`);
        return 0;
      case "start":
        return await startCommand(rest, rt, io);
      default:
        io.err(`Unknown command "${cmd}".\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) io.err(`Configuration error: ${e.message}\n`);
    else if ((e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") === true) {
      io.err(`${(e as Error).message}\n\n${cmd === "start" ? START_USAGE : USAGE}`);
    } else io.err(`Error: ${(e as Error).message}\n`);
    return 1;
  }
}
