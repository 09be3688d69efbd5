/** `broker start`: load the configuration, listen, run until SIGINT/SIGTERM. */
import { parseArgs } from "node:util";
import { createBroker } from "../broker/broker.ts";
import type { BrokerOptions } from "../broker/context.ts";
import { type Config, defaultConfig, type MqttConfig } from "../config/config.ts";
import { ConfigError } from "../config/config_error.ts";
import { parseBind, parseConfig } from "../config/parse_config.ts";
import type { Runtime, TlsOptions } from "../runtime/runtime.ts";
import { type ListenerSpec, startListeners } from "../transport/listeners.ts";
import { createLogger, isLogLevel } from "./logger.ts";

/** Where the cli prints. */
export interface CliIo {
  out(s: string): void;
  err(s: string): void;
}

export const START_USAGE = `Usage: broker start [options]

Options:
  --conf FILE          NanoMQ-style HOCON configuration file (default: built-in defaults)
  --url URL            nmq-tcp://HOST:PORT overrides listeners.tcp.bind;
                       tls+nmq-tcp://HOST:PORT overrides listeners.ssl.bind
  --log_level LEVEL    trace, debug, info, warn, error or fatal (default warn)
  -h, --help           this text
`;

/** Maps the `mqtt { }` section onto broker options. */
export function brokerOptions(m: MqttConfig): BrokerOptions {
  return {
    maxPacketSize: m.maxPacketSize,
    maxQueueLen: m.maxMqueueLen,
    maxInflight: m.maxInflightWindow,
    keepaliveMultiplier: m.keepaliveMultiplier,
    maxKeepalive: m.maxKeepalive,
    topicAliasMaximum: m.maxTopicAlias,
  };
}

async function _loadConfig(rt: Runtime, file: string | undefined, url: string | undefined): Promise<Config> {
  let cfg = defaultConfig();
  if (file !== undefined) {
    let text: string;
    try {
      text = await rt.readTextFile(file);
    } catch (e) {
      throw new ConfigError(
        file,
        0,
        "--conf",
        `cannot read the file (${(e as Error).message}); check the path`,
      );
    }
    cfg = await parseConfig(text, file);
  }
  if (url !== undefined) _applyUrl(cfg, url);
  return cfg;
}

function _applyUrl(cfg: Config, url: string): void {
  const m = /^(tls\+)?nmq-tcp:\/\/(.+)$/.exec(url);
  if (m === null) {
    throw new ConfigError(
      "command line",
      0,
      "--url",
      `"${url}" is not nmq-tcp:// or tls+nmq-tcp://HOST:PORT`,
    );
  }
  const bind = parseBind(m[2]!, "command line", 0, "--url");
  if (m[1] === undefined) cfg.listeners.tcp = bind;
  else if (cfg.listeners.ssl === null) {
    throw new ConfigError(
      "command line",
      0,
      "--url",
      "tls+nmq-tcp:// needs listeners.ssl (keyfile, certfile) in --conf",
    );
  } else cfg.listeners.ssl.bind = bind;
}

/** The listeners to open, with TLS files read; an unreadable file is a ConfigError naming it. */
async function _listenerSpecs(rt: Runtime, cfg: Config): Promise<ListenerSpec[]> {
  const specs: ListenerSpec[] = [{ ...cfg.listeners.tcp }];
  const ssl = cfg.listeners.ssl;
  if (ssl === null) return specs;
  const read = async (path: string, key: string): Promise<string> => {
    try {
      return await rt.readTextFile(path);
    } catch (e) {
      throw new ConfigError(
        cfg.source,
        0,
        `listeners.ssl.${key}`,
        `cannot read ${path} (${(e as Error).message})`,
      );
    }
  };
  const tls: TlsOptions = {
    key: await read(ssl.keyfile, "keyfile"),
    cert: await read(ssl.certfile, "certfile"),
    requestCert: ssl.verifyPeer,
    rejectUnauthorized: ssl.verifyPeer && ssl.failIfNoPeerCert,
  };
  if (ssl.cacertfile !== null) tls.ca = await read(ssl.cacertfile, "cacertfile");
  if (ssl.keyPassword !== null) tls.passphrase = ssl.keyPassword;
  specs.push({ ...ssl.bind, tls });
  return specs;
}

/** Runs the broker in the foreground; resolves with the exit code once it has stopped. */
export async function startCommand(args: string[], rt: Runtime, io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      conf: { type: "string" },
      url: { type: "string" },
      log_level: { type: "string", default: "warn" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help === true) {
    io.out(START_USAGE);
    return 0;
  }
  const level = values.log_level ?? "warn";
  if (!isLogLevel(level)) {
    throw new ConfigError("command line", 0, "--log_level", `"${level}" is not a log level`);
  }
  const log = createLogger(level, io.err);
  const cfg = await _loadConfig(rt, values.conf, values.url);
  for (const w of cfg.warnings) log.warn(w);
  const broker = createBroker(brokerOptions(cfg.mqtt), { now: rt.now, log });
  const listeners = await startListeners(rt, broker, await _listenerSpecs(rt, cfg), log);
  const stopTick = rt.every(1000, () => broker.tick(rt.now()));
  const on = listeners.servers.map((s) => `${s.address.host}:${s.address.port}`).join(", ");
  io.err(`broker ${rt.name} ${rt.version}: listening on ${on} (config: ${cfg.source})\n`);
  return await new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      stopTick();
      broker.close();
      void listeners.close();
      // let the final DISCONNECTs go out before the process ends
      setTimeout(() => resolve(0), 200);
    };
    rt.onSignal("SIGINT", stop);
    rt.onSignal("SIGTERM", stop);
  });
}
