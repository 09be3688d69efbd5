/** A broker on a real loopback socket (port chosen by the OS), for end-to-end tests. */
import net from "node:net";
import { after, before } from "node:test";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { type Broker, createBroker } from "../../src/broker/broker.ts";
import { createRuntime } from "../../src/runtime/create_runtime.ts";
import { createNodeRuntime } from "../../src/runtime/node_runtime.ts";
import type { Runtime } from "../../src/runtime/runtime.ts";
import { startListeners } from "../../src/transport/listeners.ts";
import { quietLog } from "./mem_client.ts";
import type { BrokerOptions } from "../../src/broker/options.ts";
import type { TlsOptions } from "../../src/runtime/tls_options.ts";

/** A running broker. */
export interface LiveBroker {
  port: number;
  /** The TLS listener's port, 0 when there is none. */
  tlsPort: number;
  /** The WebSocket listener's port (path /mqtt). */
  wsPort: number;
  url: string;
  broker: Broker;
  stop(): Promise<void>;
}

/**
 * The socket layers to run the transport tests over: under Bun both Bun.listen (what the broker
 * uses there) and node:net (what the Node.js bundle uses); elsewhere node:net only.
 */
export const RUNTIMES: [string, () => Runtime][] = createRuntime().name === "bun"
  ? [["Bun.listen", createRuntime], ["node:net", createNodeRuntime]]
  : [["node:net", createNodeRuntime]];

/** Starts a broker on 127.0.0.1 with a fast tick so keep alive and expiry show within a test. */
export async function startLiveBroker(
  opts: Partial<BrokerOptions> = {},
  rt: Runtime = createRuntime(),
  tls?: TlsOptions,
): Promise<LiveBroker> {
  const broker = createBroker(opts, { now: Date.now, log: quietLog });
  const specs = [
    { host: "127.0.0.1", port: 0 },
    ...(tls ? [{ host: "127.0.0.1", port: 0, tls }] : []),
    { host: "127.0.0.1", port: 0, wsPath: "/mqtt" },
  ];
  const listeners = await startListeners(rt, broker, specs, quietLog);
  const stopTick = rt.every(100, () => broker.tick(Date.now()));
  const port = listeners.servers[0]!.address.port;
  return {
    port,
    tlsPort: tls ? listeners.servers[1]!.address.port : 0,
    wsPort: listeners.servers.at(-1)!.address.port,
    url: `mqtt://127.0.0.1:${port}`,
    broker,
    stop: async () => {
      stopTick();
      broker.close();
      await listeners.close();
    },
  };
}

const handedOut = new Set<number>();

/**
 * A port that was free a moment ago, below the kernel's ephemeral range (32768-60999): a port that
 * `listen(0)` picked is handed to the next outgoing connection of any test running beside this one,
 * so a broker started on it later found it taken (EADDRINUSE) now and then.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (handedOut.has(port)) continue;
    if (await _bindable(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

function _bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** Resolves once an MQTT client can connect to 127.0.0.1:`port`; rejects after `ms` (a hang guard). */
export async function mqttListening(port: number, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        reconnectPeriod: 0,
        connectTimeout: 1000,
      });
      c.end(true);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`Nothing listens on ${port}: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Resolves when `cond()` holds, polling; rejects with `what` after `ms` (a hang guard, not a timing assertion). */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Registers before/after hooks that run one broker for the whole test file and end every MQTT.js
 * client opened through `client()`.
 */
export function liveBrokerFixture(opts: Partial<BrokerOptions> = {}): {
  readonly lb: LiveBroker;
  client(o?: IClientOptions): Promise<MqttClient>;
  track(c: MqttClient): MqttClient;
} {
  let lb: LiveBroker | undefined;
  const open: MqttClient[] = [];
  before(async () => (lb = await startLiveBroker(opts)));
  after(async () => {
    for (const c of open) c.end(true);
    await lb?.stop();
  });
  return {
    get lb() {
      return lb!;
    },
    async client(o = {}) {
      const c = await mqtt.connectAsync(lb!.url, { reconnectPeriod: 0, connectTimeout: 5000, ...o });
      open.push(c);
      return c;
    },
    track(c) {
      open.push(c);
      return c;
    },
  };
}
