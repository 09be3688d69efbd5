/** `broker stop`, `restart` and `reload`: act on the broker named by the pid file. */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import type { Runtime } from "../runtime/runtime.ts";
import { pidFilePath, readReload, reloadFilePath, runningPid } from "./pid_file.ts";
import { type CliIo, startCommand } from "./start.ts";

/** How long stop waits for the broker to exit. */
const STOP_WAIT_MS = 30_000;
/** How long reload waits for the broker's answer. */
const RELOAD_WAIT_MS = 15_000;

export const STOP_USAGE = `Usage: broker stop

Sends SIGTERM to the broker in the pid file ($NANOMQ_PID_FILE, default /tmp/nanomq/nanomq.pid)
and waits until it has exited: MQTT 5 clients get DISCONNECT 0x8B (server shutting down) first.
`;

export const RESTART_USAGE = `Usage: broker restart [start options]

Stops the running broker (if any), then starts one with the given options (see broker start --help).
`;

export const RELOAD_USAGE = `Usage: broker reload [--conf FILE]

Makes the running broker re-read its configuration file (or FILE) and apply, without dropping any
connection: mqtt { } limits, auth (allow_anonymous, passwords, ACL rules and file), log { }.
If the file is invalid the running configuration stays, and this command prints why and exits 1.
`;

function _help(args: string[], io: CliIo, usage: string, options: Record<string, { type: "string" }> = {}) {
  const { values } = parseArgs({
    args,
    options: { ...options, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help === true) io.out(usage);
  return values as { help?: boolean; conf?: string };
}

/** `broker stop`. */
export async function stopCommand(args: string[], rt: Runtime, io: CliIo): Promise<number> {
  if (_help(args, io, STOP_USAGE).help === true) return 0;
  const pidFile = pidFilePath(rt);
  const pid = await runningPid(rt, pidFile);
  if (pid === null) {
    io.err(`No broker is running (no live process in ${pidFile})\n`);
    return 1;
  }
  rt.kill(pid, "SIGTERM");
  for (let waited = 0; waited < STOP_WAIT_MS; waited += 50) {
    if (!rt.isAlive(pid)) {
      io.err(`broker stopped (pid ${pid})\n`);
      return 0;
    }
    await rt.sleep(50);
  }
  io.err(
    `The broker (pid ${pid}) did not exit within ${STOP_WAIT_MS / 1000} s; end it with kill -9 ${pid}\n`,
  );
  return 1;
}

/** `broker restart`: stop if running, then start with the given flags. */
export async function restartCommand(args: string[], rt: Runtime, io: CliIo): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    io.out(RESTART_USAGE);
    return 0;
  }
  if ((await runningPid(rt, pidFilePath(rt))) !== null) {
    const code = await stopCommand([], rt, io);
    if (code !== 0) return code;
  }
  return await startCommand(args, rt, io);
}

/** `broker reload`: SIGHUP with a request file; waits for the broker's answer. */
export async function reloadCommand(args: string[], rt: Runtime, io: CliIo): Promise<number> {
  const flags = _help(args, io, RELOAD_USAGE, { conf: { type: "string" } });
  if (flags.help === true) return 0;
  const pidFile = pidFilePath(rt);
  const pid = await runningPid(rt, pidFile);
  if (pid === null) {
    io.err(`No broker is running (no live process in ${pidFile})\n`);
    return 1;
  }
  const id = randomUUID();
  await rt.writeTextFile(reloadFilePath(pidFile), JSON.stringify({ id, conf: flags.conf ?? null }));
  rt.kill(pid, "SIGHUP");
  for (let waited = 0; waited < RELOAD_WAIT_MS; waited += 50) {
    await rt.sleep(50);
    const answer = await readReload(rt, pidFile);
    if (answer?.id !== id || answer.done !== true) continue;
    if (answer.ok === true) {
      io.err(`broker reloaded its configuration (pid ${pid})\n`);
      return 0;
    }
    io.err(
      `Reload failed, the broker keeps its running configuration:\n${answer.error ?? "unknown error"}\n`,
    );
    return 1;
  }
  io.err(
    `The broker (pid ${pid}) did not answer the reload within ${RELOAD_WAIT_MS / 1000} s; see its log\n`,
  );
  return 1;
}
