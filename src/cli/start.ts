/** `broker start`: load the configuration, listen, run until SIGINT/SIGTERM. */
import { parseArgs } from "node:util";
import { createBroker } from "../broker/broker.ts";
import type { BrokerOptions } from "../broker/context.ts";
import { type Config, defaultConfig, type MqttConfig } from "../config/config.ts";
import { ConfigError } from "../config/config_error.ts";
import { parseBind, parseConfig } from "../config/parse_config.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { startListeners } from "../transport/listeners.ts";
import { createLogger, isLogLevel } from "./logger.ts";

/** Where the cli prints. */
export interface CliIo {
  out(s: string): void;
  err(s: string): void;
}

export const START_USAGE = `Usage: broker start [options]

Options:
  --conf FILE          NanoMQ-style HOCON configuration file (default: built-in defaults)
  --url URL            TCP listener, nmq-tcp://HOST:PORT (overrides listeners.tcp.bind)
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
  if (url !== undefined) {
    const m = /^nmq-tcp:\/\/(.+)$/.exec(url);
    if (m === null) throw new ConfigError("command line", 0, "--url", `"${url}" is not nmq-tcp://HOST:PORT`);
    cfg.listeners.tcp = parseBind(m[1]!, "command line", 0, "--url");
  }
  return cfg;
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
  const listeners = await startListeners(rt, broker, [cfg.listeners.tcp], log);
  const stopTick = rt.every(1000, () => broker.tick(rt.now()));
  const a = listeners.servers[0]!.address;
  io.err(`broker ${rt.name} ${rt.version}: listening on ${a.host}:${a.port} (config: ${cfg.source})\n`);
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
