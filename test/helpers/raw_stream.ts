/**
 * A raw MQTT byte stream over any of the four transports, for clients that must behave in ways no
 * client library allows (fall silent, ping on a schedule of their own).
 */
import net from "node:net";
import tls from "node:tls";
import mqttPacket, { type Packet } from "mqtt-packet";
import WebSocket from "ws";
import type { Transport } from "./broker_process.ts";

/** An open stream and what came back on it. */
export interface RawStream {
  readonly packets: Packet[];
  /** Date.now() when the broker's side closed, null while open. */
  closedAt: number | null;
  write(bytes: Buffer): void;
  close(): void;
}

/** Opens `transport` to 127.0.0.1:`port` (path /mqtt for WebSocket), trusting `ca` for TLS. */
export function openRawStream(
  transport: Transport,
  port: number,
  ca: string,
  version = 5,
): Promise<RawStream> {
  const parser = mqttPacket.parser({ protocolVersion: version });
  const packets: Packet[] = [];
  parser.on("packet", (p: Packet) => packets.push(p));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => parser.parse(d);
    if (transport === "ws" || transport === "wss") {
      const ws = new WebSocket(`${transport}://127.0.0.1:${port}/mqtt`, "mqtt", { ca });
      const s: RawStream = {
        packets,
        closedAt: null,
        write: (b) => ws.send(b),
        close: () => ws.terminate(),
      };
      ws.on("message", onData);
      ws.on("close", () => (s.closedAt ??= Date.now()));
      ws.on("error", reject);
      ws.once("open", () => resolve(s));
      return;
    }
    const sock = transport === "mqtt"
      ? net.connect(port, "127.0.0.1")
      : tls.connect({ port, host: "127.0.0.1", ca, servername: "localhost" });
    const s: RawStream = {
      packets,
      closedAt: null,
      write: (b) => void sock.write(b),
      close: () => sock.destroy(),
    };
    sock.on("data", onData);
    sock.on("close", () => (s.closedAt ??= Date.now()));
    sock.on("error", reject);
    sock.once(transport === "mqtt" ? "connect" : "secureConnect", () => resolve(s));
  });
}

/** A CONNECT packet with this client id and keep alive. */
export function connectPacket(clientId: string, keepalive: number, protocolVersion: 4 | 5 = 5): Buffer {
  return mqttPacket.generate({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion,
    clean: true,
    clientId,
    keepalive,
  });
}
