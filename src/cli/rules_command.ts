/**
 * `broker rules`: nanomq_cli's rule commands (--create, --list, --show, --delete, and --update,
 * --enable, --disable), through the running broker's HTTP API. Where the API is and who may use it
 * come from the configuration file's `http_server { }` (--conf, else $NANOMQ_CONF_PATH or
 * /etc/nanomq.conf), overridden by --url, --username and --password.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config/load_config.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { CliIo } from "./start.ts";

export const RULES_USAGE = `Usage: broker rules <command> [options]

Manages the rule engine of the running broker through its HTTP API (http_server { }).
  --create --sql '<SQL>' --actions '<JSON>' [--description <text>]
           e.g. --sql 'SELECT topic, payload FROM "abc"'
                --actions '[{"name": "repub", "params": {"topic": "repub/abc"}}]'
  --list
  --show --id <n>
  --update --id <n> [--sql '<SQL>'] [--actions '<JSON>'] [--description <text>]
  --enable --id <n>  |  --disable --id <n>
  --delete --id <n>
Options:
  --conf <file>        the broker's configuration, for http_server { } [$NANOMQ_CONF_PATH, /etc/nanomq.conf]
  --url <url>          the API [http://127.0.0.1:<http_server.port>]
  -u, --username <u>   -P, --password <p>   [http_server's]
Rules are kept across restarts; those of the configuration file are changed there.
`;

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  create: { type: "boolean" },
  list: { type: "boolean" },
  show: { type: "boolean" },
  update: { type: "boolean" },
  enable: { type: "boolean" },
  disable: { type: "boolean" },
  delete: { type: "boolean" },
  id: { type: "string" },
  sql: { type: "string" },
  actions: { type: "string" },
  description: { type: "string" },
  conf: { type: "string" },
  url: { type: "string" },
  username: { type: "string", short: "u" },
  password: { type: "string", short: "P" },
} as const;

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "boolean" ? boolean : string;
};

/** Runs `broker rules`; resolves with the exit code (0, or 1 with the reason printed). */
export async function rulesCommand(args: string[], rt: Runtime, io: CliIo): Promise<number> {
  const v = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }).values as Values;
  if (v.help === true) {
    io.out(RULES_USAGE);
    return 0;
  }
  const request = _request(v);
  const api = await _api(rt, v);
  const res = await rt.httpClient(1)({
    url: `${api.url}/api/v4/${request.path}`,
    method: request.method,
    headers: {
      authorization: `Basic ${Buffer.from(`${api.username}:${api.password}`).toString("base64")}`,
      "content-type": "application/json",
    },
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    timeoutMs: 10_000,
    connectTimeoutMs: 5000,
  });
  let answer: Record<string, unknown> = {};
  try {
    answer = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    // a status without a JSON body is reported below
  }
  if (res.status !== 200) {
    io.err(`The broker refused (HTTP ${res.status}): ${String(answer.message ?? answer.code ?? res.body)}\n`);
    return 1;
  }
  io.out(`${JSON.stringify(answer.data ?? { code: answer.code }, null, 2)}\n`);
  return 0;
}

function _request(v: Values): { method: "GET" | "POST" | "PUT" | "DELETE"; path: string; body?: unknown } {
  const commands = (["create", "list", "show", "update", "enable", "disable", "delete"] as const).filter((
    c,
  ) => v[c] === true);
  if (commands.length !== 1) {
    throw new Error(
      "Give one of --create, --list, --show, --update, --enable, --disable, --delete (broker rules --help)",
    );
  }
  const cmd = commands[0]!;
  if (cmd === "list") return { method: "GET", path: "rules" };
  if (cmd === "create") return { method: "POST", path: "rules", body: _fields(v, true) };
  if (v.id === undefined) throw new Error(`--${cmd} needs --id <n>`);
  const path = `rules/${encodeURIComponent(/^\d+$/.test(v.id) ? `rule:${v.id}` : v.id)}`;
  if (cmd === "show") return { method: "GET", path };
  if (cmd === "delete") return { method: "DELETE", path };
  if (cmd === "update") return { method: "PUT", path, body: _fields(v, false) };
  return { method: "PUT", path, body: { enabled: cmd === "enable" } };
}

function _fields(v: Values, create: boolean): Record<string, unknown> {
  if (create && (v.sql === undefined || v.actions === undefined)) {
    throw new Error("--create needs --sql and --actions");
  }
  const body: Record<string, unknown> = {};
  if (v.sql !== undefined) body.rawsql = v.sql;
  if (v.description !== undefined) body.description = v.description;
  if (v.actions !== undefined) {
    try {
      body.actions = JSON.parse(v.actions);
    } catch (e) {
      throw new Error(`--actions is not JSON: ${(e as Error).message}`);
    }
  }
  return body;
}

/** The API's address and credentials: the configuration's http_server, then the flags. */
async function _api(rt: Runtime, v: Values): Promise<{ url: string; username: string; password: string }> {
  const file = v.conf ?? rt.env.NANOMQ_CONF_PATH ??
    (rt.fileExists("/etc/nanomq.conf") ? "/etc/nanomq.conf" : null);
  const h = file === null
    ? null
    : (await loadConfig({ file, read: rt.readTextFile, env: rt.env })).config.http_server;
  const host = h === null || h.ip_addr === "0.0.0.0" || h.ip_addr === "" ? "127.0.0.1" : h.ip_addr;
  return {
    url: (v.url ?? `http://${host}:${h?.port ?? 8081}`).replace(/\/+$/, ""),
    username: v.username ?? h?.username ?? "admin",
    password: v.password ?? h?.password ?? "public",
  };
}
