/** What pub, sub and conn share: output, connecting their clients, ending on a signal or -W. */
import type { Runtime } from "../runtime/runtime.ts";
import type { ClientTlsOptions } from "../runtime/tls_options.ts";
import { ClientError } from "./client_error.ts";
import type { ClientSettings } from "./client_flags.ts";
import { openConnection, tlsOptions } from "./client_target.ts";
import { MqttClient } from "./mqtt_client.ts";

/** Where a tool prints: results on out, diagnostics on err. */
export interface ToolIo {
  out(s: string): void;
  err(s: string): void;
}

/** The longest a connection and its CONNACK may take (less when -W says so). */
const CONNECT_TIMEOUT_MS = 10_000;

/** The client identifier of client `n` (from 0). */
export function clientIdOf(s: ClientSettings, n: number): string {
  if (s.idOffset !== undefined) return `${s.clientId}_${s.idOffset + n}`;
  if (s.clientId === null) return `broker-${s.tool}-${Math.random().toString(36).slice(2, 10)}`;
  return s.clients > 1 ? `${s.clientId}-${n}` : s.clientId;
}

/** The TLS options when the target needs them (the files read once for every client). */
export async function tlsFor(rt: Runtime, s: ClientSettings): Promise<ClientTlsOptions | undefined> {
  return s.target.transport === "tls" || s.target.transport === "wss"
    ? await tlsOptions(rt, s.tls)
    : undefined;
}

/** Connects client `n`; rejects with a ClientError (refused, timeout). */
export async function connectClient(
  rt: Runtime,
  s: ClientSettings,
  [tls, n]: [ClientTlsOptions | undefined, number],
  io: ToolIo,
): Promise<MqttClient> {
  const clientId = clientIdOf(s, n);
  const timeout = Math.min(CONNECT_TIMEOUT_MS, s.timeoutMs ?? CONNECT_TIMEOUT_MS);
  const conn = await openConnection(rt, s.target, tls, timeout);
  const debug = s.debug
    ? {
      debug: (dir: ">" | "<", what: string) =>
        io.err(`Client ${clientId} ${dir === ">" ? "sending" : "received"} ${what}\n`),
    }
    : {};
  const c = new MqttClient(conn, { ...s.client, clientId, ...debug });
  await c.connect(timeout);
  return c;
}

/**
 * Connects `s.clients` clients, at most `s.parallel` at once and `gapMs` apart; `each` runs on
 * each as it connects, told how long that took. Rejects with the first failure (the others are closed).
 */
export async function connectAll(
  rt: Runtime,
  s: ClientSettings,
  io: ToolIo,
  [gapMs, each]: [number, (c: MqttClient, n: number, connectMs: number) => void],
): Promise<MqttClient[]> {
  const tls = await tlsFor(rt, s);
  const clients: MqttClient[] = [];
  const running = new Set<Promise<void>>();
  try {
    for (let n = 0; n < s.clients; n++) {
      if (running.size >= s.parallel) await Promise.race(running);
      const t0 = performance.now();
      const p: Promise<void> = connectClient(rt, s, [tls, n], io).then((c) => {
        clients.push(c);
        each(c, n, performance.now() - t0);
      }).finally(() => running.delete(p));
      running.add(p);
      if (gapMs > 0 && n + 1 < s.clients) await rt.sleep(gapMs);
    }
    await Promise.all(running);
  } catch (e) {
    await Promise.allSettled(running);
    for (const c of clients) c.destroy();
    throw e;
  }
  return clients;
}

/**
 * Resolves with the exit code when the tool is done: `work` finishing (0), SIGINT or SIGTERM (0),
 * -W passing (`onTimeout`), or a ClientError (its code is printed and decides the exit code).
 */
export function untilDone(
  rt: Runtime,
  s: ClientSettings,
  work: Promise<void>,
  onTimeout: () => ClientError | null,
): Promise<ClientError | null> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const done = (e: ClientError | null) => {
      if (timer !== null) clearTimeout(timer);
      resolve(e);
    };
    rt.onSignal("SIGINT", () => done(null));
    rt.onSignal("SIGTERM", () => done(null));
    if (s.timeoutMs !== null) timer = setTimeout(() => done(onTimeout()), s.timeoutMs);
    work.then(
      () => done(null),
      (e) => done(e instanceof ClientError ? e : new ClientError("closed", String(e))),
    );
  });
}

/** Disconnects every client that is still connected. */
export async function disconnectAll(clients: readonly MqttClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.disconnect()));
}
