/**
 * Encoders of the control packets, both directions: what the broker answers (CONNACK, SUBACK,
 * UNSUBACK, DISCONNECT, AUTH) and what the bridge sends upstream (CONNECT, SUBSCRIBE, UNSUBSCRIBE,
 * PINGREQ). Not on the hot path: they build their parts and write the packet in one go.
 */
import type {
  IConnackPacket,
  IConnectPacket,
  ISubscribePacket,
  IUnsubscribePacket,
  MqttPacket,
  Properties,
} from "./packets.ts";
import type { PacketWriter } from "./packet_writer.ts";
import { encodeProperties, lengthPrefixed } from "./properties_codec.ts";

/** Appends `p` encoded for protocol level `version`. */
export function writeControl(w: PacketWriter, p: MqttPacket, version: number): void {
  const v5 = version === 5;
  switch (p.cmd) {
    case "connect":
      return _frame(w, 0x10, _connect(p));
    case "connack":
      return _frame(w, 0x20, _connack(p, v5));
    case "subscribe":
      return _frame(w, 0x82, _subscribe(p, v5));
    case "suback":
    case "unsuback": {
      const parts = [_u16(p.messageId ?? 0)];
      if (v5) parts.push(encodeProperties(p.properties));
      if (v5 || p.cmd === "suback") parts.push(Buffer.from(p.granted ?? []));
      return _frame(w, p.cmd === "suback" ? 0x90 : 0xb0, parts);
    }
    case "unsubscribe":
      return _frame(w, 0xa2, _unsubscribe(p, v5));
    case "pingreq":
      return _frame(w, 0xc0, []);
    case "pingresp":
      return _frame(w, 0xd0, []);
    case "disconnect":
      return _frame(w, 0xe0, v5 ? _reasoned(p.reasonCode ?? 0, p.properties) : []);
    case "auth":
      return _frame(w, 0xf0, _reasoned(p.reasonCode, p.properties));
    case "puback":
    case "pubrec":
      return _frame(w, p.cmd === "puback" ? 0x40 : 0x50, [
        _u16(p.messageId),
        ..._reasoned(p.reasonCode, p.properties),
      ]);
  }
}

function _frame(w: PacketWriter, b0: number, parts: Buffer[]): void {
  let len = 0;
  for (const b of parts) len += b.length;
  w.u8(b0);
  w.varint(len);
  for (const b of parts) w.bytes(b);
}

function _u16(v: number): Buffer {
  return Buffer.from([v >>> 8, v & 0xff]);
}

function _reasoned(code: number, props: Properties | undefined): Buffer[] {
  return [Buffer.from([code]), encodeProperties(props)];
}

function _connect(p: IConnectPacket): Buffer[] {
  const version = p.protocolVersion ?? 4;
  const w = p.will;
  let flags = p.clean ?? true ? 0x02 : 0;
  if (w !== undefined) flags |= 0x04 | ((w.qos ?? 0) << 3) | (w.retain === true ? 0x20 : 0);
  if (p.username !== undefined) flags |= 0x80;
  if (p.password !== undefined) flags |= 0x40;
  const parts: Buffer[] = [
    lengthPrefixed(p.protocolId ?? (version === 3 ? "MQIsdp" : "MQTT")),
    Buffer.from([version, flags]),
    _u16(p.keepalive ?? 0),
  ];
  if (version === 5) parts.push(encodeProperties(p.properties));
  parts.push(lengthPrefixed(p.clientId));
  if (w !== undefined) {
    if (version === 5) parts.push(encodeProperties(w.properties));
    parts.push(lengthPrefixed(w.topic), lengthPrefixed(w.payload));
  }
  if (p.username !== undefined) parts.push(lengthPrefixed(p.username));
  if (p.password !== undefined) parts.push(lengthPrefixed(p.password));
  return parts;
}

function _connack(p: IConnackPacket, v5: boolean): Buffer[] {
  const code = (v5 ? p.reasonCode : p.returnCode) ?? 0;
  const parts: Buffer[] = [Buffer.from([p.sessionPresent ? 1 : 0, code])];
  if (v5) parts.push(encodeProperties(p.properties));
  return parts;
}

function _subscribe(p: ISubscribePacket, v5: boolean): Buffer[] {
  const parts: Buffer[] = [_u16(p.messageId ?? 0)];
  if (v5) parts.push(encodeProperties(p.properties));
  for (const s of p.subscriptions) {
    let o: number = s.qos;
    if (v5) o |= (s.nl === true ? 0x04 : 0) | (s.rap === true ? 0x08 : 0) | ((s.rh ?? 0) << 4);
    parts.push(lengthPrefixed(s.topic), Buffer.from([o]));
  }
  return parts;
}

function _unsubscribe(p: IUnsubscribePacket, v5: boolean): Buffer[] {
  const parts: Buffer[] = [_u16(p.messageId ?? 0)];
  if (v5) parts.push(encodeProperties(p.properties));
  for (const t of p.unsubscriptions) parts.push(lengthPrefixed(t));
  return parts;
}

/** What a client's CONNECT says (the bridge's upstream connection, the client tools). */
export interface ConnectFields {
  version: 3 | 4 | 5;
  clientId: string;
  clean: boolean;
  /** Seconds. */
  keepalive: number;
  username?: string | undefined;
  password?: Buffer | undefined;
  will?: IConnectPacket["will"] | undefined;
  /** MQTT 5 only; dropped at other versions, and when empty. */
  properties?: Properties | undefined;
}

/** The CONNECT packet for `f`, ready for {@link writeControl}. */
export function connectPacket(f: ConnectFields): IConnectPacket {
  const p: IConnectPacket = {
    cmd: "connect",
    protocolId: f.version === 3 ? "MQIsdp" : "MQTT",
    protocolVersion: f.version,
    clientId: f.clientId,
    clean: f.clean,
    keepalive: f.keepalive,
  };
  if (f.username !== undefined) p.username = f.username;
  if (f.password !== undefined) p.password = f.password;
  if (f.will !== undefined) p.will = f.will;
  if (f.version === 5 && f.properties !== undefined && Object.keys(f.properties).length > 0) {
    p.properties = f.properties;
  }
  return p;
}
