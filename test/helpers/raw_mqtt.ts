/** Short raw MQTT exchanges for tests of what the broker answers (test/helpers/raw_client.ts underneath). */
import process from "node:process";
import type { Packet } from "mqtt-packet";
import { waitFor } from "./live_broker.ts";
import { RawClient } from "./raw_client.ts";

let _n = 0;

/** A CONNECT packet for `version`, clean, with `extra` fields over the defaults. */
export function connectOf(version: 3 | 4 | 5, extra: Record<string, unknown> = {}): Packet {
  return {
    cmd: "connect",
    protocolId: version === 3 ? "MQIsdp" : "MQTT",
    protocolVersion: version,
    clientId: `raw-${process.pid}-${++_n}`,
    clean: true,
    keepalive: 60,
    ...extra,
  } as Packet;
}

/** Opens a connection and sends `connect`; resolves with the client once CONNACK came or the connection closed. */
export async function rawConnect(port: number, connect: Packet): Promise<RawClient> {
  const v = (connect as { protocolVersion: number }).protocolVersion;
  const c = await RawClient.open(port, v === 5 ? 5 : 4);
  c.send(connect, v);
  await waitFor(() => c.packets.length > 0 || c.closed, "CONNACK or a close");
  return c;
}

/** The reason code of the CONNACK `c` got (MQTT 3: its return code), -1 when it got none. */
export function connackCode(c: RawClient): number {
  const p = c.packets[0] as { cmd: string; reasonCode?: number; returnCode?: number } | undefined;
  if (p?.cmd !== "connack") return -1;
  return p.reasonCode ?? p.returnCode ?? -1;
}

/** Waits for the connection to close; the reason code of the DISCONNECT before it, -1 for none. */
export async function closedWith(c: RawClient): Promise<number> {
  await waitFor(() => c.closed, "the broker to close the connection");
  const d = c.packets.find((p) => p.cmd === "disconnect") as { reasonCode?: number } | undefined;
  return d === undefined ? -1 : d.reasonCode ?? 0;
}

/** Waits for a packet of kind `cmd` (after those already seen, `from` on) and returns it. */
export async function nextPacket<T = Packet>(c: RawClient, cmd: string, from = 0): Promise<T> {
  let found: Packet | undefined;
  await waitFor(() => (found = c.packets.slice(from).find((p) => p.cmd === cmd)) !== undefined, cmd);
  return found as T;
}
