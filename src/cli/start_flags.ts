/** NanoMQ's `start` flags, as parseArgs options and as configuration edits. */
import { type Edit, envBool, urlEdit } from "../config/config_env.ts";
import { ConfigError } from "../config/config_error.ts";

/** parseArgs options shared by start, restart and check. */
export const START_OPTIONS = {
  conf: { type: "string" },
  old_conf: { type: "string" },
  url: { type: "string" },
  daemon: { type: "boolean", short: "d" },
  log_level: { type: "string" },
  log_file: { type: "string" },
  log_stdout: { type: "string" },
  log_syslog: { type: "string" },
  cacert: { type: "string" },
  cert: { type: "string", short: "E" },
  key: { type: "string" },
  keypass: { type: "string" },
  verify: { type: "boolean" },
  fail: { type: "boolean" },
  http: { type: "boolean" },
  port: { type: "string", short: "p" },
  property_size: { type: "string", short: "s" },
  msq_len: { type: "string", short: "S" },
  qos_duration: { type: "string", short: "D" },
  tq_thread: { type: "string", short: "t" },
  max_tq_thread: { type: "string", short: "T" },
  parallel: { type: "string", short: "n" },
  acl: { type: "string" },
  discard_store: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** The values parseArgs gives for {@link START_OPTIONS}. */
export type StartFlags = {
  [K in keyof typeof START_OPTIONS]?: (typeof START_OPTIONS)[K]["type"] extends "boolean" ? boolean : string;
};

export const START_USAGE = `Usage: broker start [options]

Options (NanoMQ's; flags > NANOMQ_* environment > file > defaults):
  --conf FILE              configuration file: HOCON (nanomq.conf), .json or .yaml
                           (default: $NANOMQ_CONF_PATH, else /etc/nanomq.conf if present, else built-in)
  --url URL                nmq-tcp://HOST:PORT, tls+nmq-tcp://, nmq-ws://HOST:PORT/PATH, nmq-wss://
  -d, --daemon             run in the background (log to log.dir/log.file, pid file)
  --log_level LEVEL        trace, debug, info, warn, error or fatal
  --log_file PATH          log to this file too
  --log_stdout true|false  log to the console
  --cacert FILE            listeners.ssl.cacertfile
  -E, --cert FILE          listeners.ssl.certfile
  --key FILE               listeners.ssl.keyfile
  --keypass PASS           listeners.ssl.key_password
  --verify                 listeners.ssl.verify_peer = true
  --fail                   listeners.ssl.fail_if_no_peer_cert = true
  --http                   http_server.enable = true
  -p, --port PORT          http_server.port
  -s, --property_size N    mqtt.property_size
  -S, --msq_len N          mqtt.max_mqueue_len
  -D, --qos_duration SECS  mqtt.retry_interval
  --acl FILE               ACL rules in the hmq line format (auth.acl_file)
  --discard_store          an unreadable sqlite store is moved aside (broker.db.unreadable-TIME)
                           and the broker starts with an empty one; without it, it refuses to start
  -t, -T, -n N             NanoMQ's thread counts: accepted, no effect here
  -h, --help               this text

Pid file: $NANOMQ_PID_FILE, default /tmp/nanomq/nanomq.pid
`;

/** The configuration edits the flags ask for, and one-line notices for flags without effect. */
export function flagEdits(f: StartFlags): { edits: Edit[]; notices: string[] } {
  const edits: Edit[] = [];
  const notices: string[] = [];
  const set = (path: string, value: unknown, flag: string): void => {
    edits.push({ path, value, origin: `flag ${flag}` });
  };
  if (f.old_conf !== undefined) {
    throw new ConfigError(
      "flag --old_conf",
      0,
      "--old_conf",
      "NanoMQ's old key = value format is not supported; use --conf with a HOCON file",
    );
  }
  if (f.url !== undefined) edits.push(urlEdit(f.url));
  if (f.daemon === true) set("system.daemon", true, "--daemon");
  if (f.log_level !== undefined) set("log.level", f.log_level, "--log_level");
  if (f.log_file !== undefined) {
    const slash = f.log_file.lastIndexOf("/");
    set("log.dir", slash < 0 ? "." : f.log_file.slice(0, slash) || "/", "--log_file");
    set("log.file", f.log_file.slice(slash + 1), "--log_file");
    set("log.to", _toggle("file", true), "--log_file");
  }
  if (f.log_stdout !== undefined) {
    set("log.to", _toggle("console", envBool(f.log_stdout, "flag --log_stdout")), "--log_stdout");
  }
  if (f.log_syslog !== undefined) {
    notices.push("--log_syslog has no effect: logging to syslog is not supported");
  }
  const tls: [keyof StartFlags, string][] = [
    ["cacert", "cacertfile"],
    ["cert", "certfile"],
    ["key", "keyfile"],
    ["keypass", "key_password"],
  ];
  for (const [flag, key] of tls) if (f[flag] !== undefined) set(`listeners.ssl.${key}`, f[flag], `--${flag}`);
  if (f.verify === true) set("listeners.ssl.verify_peer", true, "--verify");
  if (f.fail === true) set("listeners.ssl.fail_if_no_peer_cert", true, "--fail");
  if (f.http === true) set("http_server.enable", true, "--http");
  if (f.port !== undefined) set("http_server.port", f.port, "--port");
  if (f.property_size !== undefined) set("mqtt.property_size", f.property_size, "--property_size");
  if (f.msq_len !== undefined) set("mqtt.max_mqueue_len", f.msq_len, "--msq_len");
  if (f.qos_duration !== undefined) set("mqtt.retry_interval", `${f.qos_duration}s`, "--qos_duration");
  if (f.acl !== undefined) set("auth.acl_file", f.acl, "--acl");
  if (f.tq_thread !== undefined) set("system.num_taskq_thread", f.tq_thread, "--tq_thread");
  for (const flag of ["max_tq_thread", "parallel"] as const) {
    if (f[flag] !== undefined) {
      notices.push(`--${flag} has no effect: the number of workers is --tq_thread (system.num_taskq_thread)`);
    }
  }
  return { edits, notices };
}

function _toggle(item: string, on: boolean): (old: unknown) => unknown {
  return (old) => {
    const cur = Array.isArray(old) ? old.map(String) : typeof old === "string" ? [old] : ["console"];
    const without = cur.filter((x) => x !== item);
    return on ? [...without, item] : without;
  };
}
