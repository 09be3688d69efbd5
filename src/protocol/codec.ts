/**
 * Per-connection decoder (push bytes, pull packets) and the encoders of PUBACK-PUBCOMP and PINGRESP.
 * PUBLISH (publish_codec.ts) and the acknowledgements are decoded here on the hot path; the other
 * packets in control_decode.ts.
 */
import { MqttError, RC } from "./reason_code.ts";
import { decodePublish, type LastTopic, newLastTopic, type PublishPacket } from "./publish_codec.ts";
import type { PacketWriter } from "./packet_writer.ts";
import { decodeControl } from "./control_decode.ts";
import type {
  IAuthPacket,
  IConnackPacket,
  IConnectPacket,
  IDisconnectPacket,
  IPingreqPacket,
  IPingrespPacket,
  ISubackPacket,
  ISubscribePacket,
  IUnsubackPacket,
  IUnsubscribePacket,
  MqttPacket,
} from "./packets.ts";

export { connectPacket, writeControl as writePacket } from "./control_encode.ts";

/** PUBACK, PUBREC, PUBREL or PUBCOMP as received. */
export interface AckPacket {
  cmd: "puback" | "pubrec" | "pubrel" | "pubcomp";
  messageId: number;
  reasonCode: number;
}

/** Every packet a client may send to the broker. */
export type InboundPacket =
  | PublishPacket
  | AckPacket
  | IConnectPacket
  | ISubscribePacket
  | IUnsubscribePacket
  | IPingreqPacket
  | IDisconnectPacket
  | IAuthPacket;

/** Every packet a server may send to a client (what the bridge reads). */
export type ServerPacket =
  | PublishPacket
  | AckPacket
  | IConnackPacket
  | ISubackPacket
  | IUnsubackPacket
  | IPingrespPacket
  | IDisconnectPacket
  | IAuthPacket;

export type {
  IAuthPacket,
  IConnackPacket,
  IConnectPacket,
  IDisconnectPacket,
  ISubscribePacket,
  IUnsubscribePacket,
  MqttPacket,
};

const ACK_CMDS = ["puback", "pubrec", "pubrel", "pubcomp"] as const;
const CLIENT_TYPES = new Set([1, 3, 4, 5, 6, 7, 8, 10, 12, 14, 15]);
const SERVER_TYPES = new Set([2, 3, 4, 5, 6, 7, 9, 11, 13, 14, 15]);

/** Options of {@link Decoder}. */
export interface DecoderOptions {
  /** Largest packet accepted, in bytes (default 268435460, the protocol maximum). */
  maxPacketSize?: number;
  /**
   * Decode what a server sends, at this protocol level (a client's side of a connection); by
   * default what a client sends, the level coming from its CONNECT.
   */
  serverVersion?: 3 | 4 | 5;
  /** Most User Properties in one packet after CONNECT; more is an MqttError with 0x97 (default no limit). */
  maxUserProperties?: number;
}

const EMPTY = Buffer.alloc(0);

/** Splits a byte stream into packets. Throws MqttError on malformed input. */
export class Decoder {
  /** Protocol level once CONNECT was decoded (3, 4 or 5); 0 before. */
  version = 0;
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** End of the bytes received in `buf`; after it, room when `buf` gathers an incomplete packet. */
  private end = 0;
  /** `buf` was allocated here to gather a packet (not a chunk the runtime handed over). */
  private gathering = false;
  private readonly maxPacketSize: number;
  private readonly maxUserProperties: number;
  private readonly fromServer: boolean;
  /** Created on the first PUBLISH: connections that only subscribe keep none. */
  private lastTopic: LastTopic | null = null;

  constructor(options: DecoderOptions = {}) {
    this.maxPacketSize = options.maxPacketSize ?? 268435460;
    this.maxUserProperties = options.maxUserProperties ?? Infinity;
    this.fromServer = options.serverVersion !== undefined;
    this.version = options.serverVersion ?? 0;
  }

  /** Adds bytes received from the peer. */
  push(chunk: Buffer): void {
    if (this.pos >= this.end) {
      this.buf = chunk;
      this.pos = 0;
      this.end = chunk.length;
      this.gathering = false;
      return;
    }
    // Bytes of an incomplete packet are gathered in a buffer with room to double: a large packet
    // sent in small pieces costs linear time, not a copy of all of it per piece (a client trickling
    // a 2 MB packet in 100-byte writes cost the broker 3.6 s of CPU that way).
    if (this.gathering && this.pos === 0 && this.end + chunk.length <= this.buf.length) {
      chunk.copy(this.buf, this.end);
      this.end += chunk.length;
      return;
    }
    const left = this.end - this.pos;
    const need = left + chunk.length;
    const grown = Buffer.allocUnsafe(Math.max(need, Math.min(need * 2, this.maxPacketSize + 5)));
    this.buf.copy(grown, 0, this.pos, this.end);
    chunk.copy(grown, left);
    this.buf = grown;
    this.pos = 0;
    this.end = need;
    this.gathering = true;
  }

  /** Returns the next complete packet, or null when more bytes are needed. */
  next(): InboundPacket | null {
    const buf = this.buf;
    const start = this.pos;
    const avail = this.end - start;
    if (avail === 0) {
      this.buf = EMPTY; // an idle connection keeps no read buffer alive
      this.pos = 0;
      this.end = 0;
      this.gathering = false;
      return null;
    }
    if (this.version === 0 && buf[start]! >> 4 !== 1) {
      throw new MqttError(RC.PROTOCOL_ERROR, "The first packet is not CONNECT", "[MQTT-3.1.0-1]");
    }
    if (avail < 2) return null;
    let rem = 0;
    let mul = 1;
    let i = 1;
    for (;;) {
      if (i >= avail) return null;
      const b = buf[start + i]!;
      rem += (b & 0x7f) * mul;
      i++;
      if ((b & 0x80) === 0) break;
      if (i > 4) {
        throw new MqttError(RC.MALFORMED_PACKET, "Remaining length longer than 4 bytes", "[MQTT-1.5.5-1]");
      }
      mul *= 128;
    }
    if (rem + i > this.maxPacketSize) {
      throw new MqttError(RC.PACKET_TOO_LARGE, `Packet of ${rem + i} bytes exceeds the maximum packet size`);
    }
    if (avail < i + rem) return null;
    const end = start + i + rem;
    this.pos = end;
    const b0 = buf[start]!;
    const type = b0 >> 4;
    if (type === 3) {
      return decodePublish(
        buf,
        start + i,
        end,
        b0 & 0x0f,
        this.version === 5,
        this.fromServer,
        this.lastTopic ??= newLastTopic(),
        this.maxUserProperties,
      );
    }
    if (type >= 4 && type <= 7) return this._ack(buf, start + i, end, b0);
    if (type === 12 && b0 === 0xc0 && rem === 0) return { cmd: "pingreq" };
    if (!(this.fromServer ? SERVER_TYPES : CLIENT_TYPES).has(type)) {
      const who = this.fromServer ? "server" : "client";
      throw new MqttError(RC.MALFORMED_PACKET, `Packet type ${type} may not be sent by a ${who}`);
    }
    if ((b0 & 0x0f) !== (type === 8 || type === 10 ? 2 : 0)) {
      throw new MqttError(
        RC.MALFORMED_PACKET,
        `Reserved flags of packet type ${type} are wrong`,
        "[MQTT-2.2.2-2]",
      );
    }
    if (type === 1 && this.version !== 0) {
      throw new MqttError(RC.PROTOCOL_ERROR, "Second CONNECT on one connection", "[MQTT-3.1.0-2]");
    }
    // a CONNECT over the limit is refused with CONNACK (broker/limits.ts), which needs it decoded
    const p = decodeControl(
      buf,
      start + i,
      end,
      type,
      this.version,
      type === 1 ? Infinity : this.maxUserProperties,
    );
    if (p.cmd === "connect") {
      this.version = p.protocolVersion ?? 4;
      p.raw = buf.subarray(start, end);
    }
    return p as InboundPacket;
  }

  private _ack(buf: Buffer, s: number, end: number, b0: number): AckPacket {
    const type = b0 >> 4;
    if ((b0 & 0x0f) !== (type === 6 ? 2 : 0)) {
      throw new MqttError(
        RC.MALFORMED_PACKET,
        "Reserved flags of an acknowledgement are wrong",
        "[MQTT-2.2.2-2]",
      );
    }
    const rem = end - s;
    if (rem < 2 || (rem > 2 && this.version !== 5)) {
      throw new MqttError(RC.MALFORMED_PACKET, "Acknowledgement has the wrong length");
    }
    const messageId = (buf[s]! << 8) | buf[s + 1]!;
    if (messageId === 0) throw new MqttError(RC.MALFORMED_PACKET, "Packet identifier 0", "[MQTT-2.2.1-3]");
    const reasonCode = rem > 2 ? buf[s + 2]! : 0;
    if (rem > 3 && s + 3 + buf[s + 3]! > end) {
      throw new MqttError(RC.MALFORMED_PACKET, "Truncated properties");
    }
    return { cmd: ACK_CMDS[type - 4]!, messageId, reasonCode };
  }
}

/** A Decoder for what a server sends: the same framing and checks, typed for that side. */
export class ServerDecoder {
  private readonly d: Decoder;
  constructor(version: 3 | 4 | 5, maxPacketSize?: number) {
    this.d = new Decoder(
      maxPacketSize === undefined ? { serverVersion: version } : { serverVersion: version, maxPacketSize },
    );
  }
  push(chunk: Buffer): void {
    this.d.push(chunk);
  }
  /** The next complete packet, or null; throws MqttError on malformed input. */
  next(): ServerPacket | null {
    return this.d.next() as unknown as ServerPacket | null;
  }
}

/**
 * Appends PUBACK/PUBREC/PUBREL/PUBCOMP. `type` is 4..7. MQTT 5 omits a success reason code
 * [MQTT-3.4.2-1]; MQTT 3 has none.
 */
export function writeAck(
  w: PacketWriter,
  type: number,
  messageId: number,
  reasonCode: number,
  v5: boolean,
): void {
  w.reserve(5);
  const b = w.buf;
  let p = w.pos;
  b[p++] = (type << 4) | (type === 6 ? 2 : 0);
  const withCode = v5 && reasonCode !== 0;
  b[p++] = withCode ? 3 : 2;
  b[p++] = messageId >>> 8;
  b[p++] = messageId & 0xff;
  if (withCode) b[p++] = reasonCode;
  w.pos = p;
}

/** PINGRESP. */
export function writePingresp(w: PacketWriter): void {
  w.u8(0xd0);
  w.u8(0);
}
