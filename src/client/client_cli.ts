/** `broker pub|sub|conn|bench`: the client tools, behind one entry for the cli. */
import type { Runtime } from "../runtime/runtime.ts";
import { ClientError, exitCodeOf } from "./client_error.ts";
import { type ClientSettings, parseClientFlags, type Tool } from "./client_flags.ts";
import type { ToolIo } from "./client_run.ts";
import { BENCH_USAGE, clientUsage } from "./client_usage.ts";
import { benchCommand } from "./bench_command.ts";
import { parseBenchFlags } from "./bench_flags.ts";
import { connCommand } from "./conn_command.ts";
import { pubCommand } from "./pub_command.ts";
import { subCommand } from "./sub_command.ts";

const COMMANDS: Record<Tool, (rt: Runtime, s: ClientSettings, io: ToolIo) => Promise<ClientError | null>> = {
  pub: pubCommand,
  sub: subCommand,
  conn: connCommand,
};

/** Runs `broker <tool> <args>`; resolves with the exit code (0 done, 1 usage, 2 refused, 3 timeout). */
export async function runClientTool(tool: Tool, args: string[], rt: Runtime, io: ToolIo): Promise<number> {
  let e: ClientError | null;
  try {
    const s = parseClientFlags(tool, args);
    if (s.help) {
      io.out(clientUsage(tool));
      return 0;
    }
    e = await COMMANDS[tool](rt, s, io);
  } catch (x) {
    if (!(x instanceof ClientError)) throw x;
    e = x;
  }
  return _finish(e, tool, io);
}

/** Runs `broker bench <pub|sub|conn> <args>`; resolves with the exit code as {@link runClientTool}. */
export async function runBench(args: string[], rt: Runtime, io: ToolIo): Promise<number> {
  let e: ClientError | null;
  try {
    if (args[0] === "--help") {
      io.out(BENCH_USAGE);
      return 0;
    }
    const b = parseBenchFlags(args[0], args.slice(1));
    if (b.help) {
      io.out(BENCH_USAGE);
      return 0;
    }
    e = await benchCommand(rt, b, io);
  } catch (x) {
    if (!(x instanceof ClientError)) throw x;
    e = x;
  }
  return _finish(e, "bench", io);
}

function _finish(e: ClientError | null, tool: string, io: ToolIo): number {
  if (e === null) return 0;
  io.err(e.kind === "usage" ? `${e.message}\nTry "broker ${tool} --help".\n` : `Error: ${e.message}\n`);
  return exitCodeOf(e);
}
