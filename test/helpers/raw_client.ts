/** A raw TCP client for feeding the broker bytes no well-behaved client library would send. */
import net from "node:net";
import mqttPacket, { type Packet } from "mqtt-packet";

/** A socket plus the packets the broker sent back. */
export class RawClient {
  readonly packets: Packet[] = [];
  closed = false;
  private constructor(readonly socket: net.Socket, version: number) {
    const parser = mqttPacket.parser({ protocolVersion: version });
    parser.on("packet", (p: Packet) => this.packets.push(p));
    socket.on("data", (d: Buffer) => parser.parse(d));
    socket.on("close", () => (this.closed = true));
    socket.on("error", () => {});
  }

  /** Connects a socket to `port`; `version` tells the parser how to read the answers. */
  static open(port: number, version = 5): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, "127.0.0.1", () => resolve(new RawClient(s, version)));
      s.once("error", reject);
    });
  }

  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  send(p: Packet, version = 5): void {
    this.socket.write(mqttPacket.generate(p, { protocolVersion: version }));
  }
}
