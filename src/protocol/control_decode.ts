/**
 * Decoders of the control packets (every type but PUBLISH and its acknowledgements), both
 * directions. Each gets one complete packet's variable header and payload, `buf[s, end)`, with the
 * fixed header already checked; anything that does not fit is an MqttError with the reason code
 * the spec gives.
 */
import type {
  IAuthPacket,
  IConnackPacket,
  IConnectPacket,
  IDisconnectPacket,
  ISubackPacket,
  ISubscribePacket,
  ISubscription,
  IUnsubackPacket,
  IUnsubscribePacket,
  MqttPacket,
  QoS,
} from "./packets.ts";
import { Reader, WILL } from "./properties_codec.ts";
import { MqttError, RC } from "./reason_code.ts";

function malformed(what: string, rule?: string): MqttError {
  return new MqttError(RC.MALFORMED_PACKET, `Malformed packet: ${what}`, rule);
}

function protocolError(what: string, rule?: string): MqttError {
  return new MqttError(RC.PROTOCOL_ERROR, what, rule);
}

const SUBACK_V5 = new Set([0, 1, 2, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]);
const UNSUBACK_V5 = new Set([0, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]);
const DISCONNECT_V5 = new Set([
  0,
  0x04,
  0x80,
  0x81,
  0x82,
  0x83,
  0x87,
  0x89,
  0x8b,
  0x8d,
  0x8e,
  0x8f,
  0x90,
  0x93,
  0x94,
  0x95,
  0x96,
  0x97,
  0x98,
  0x99,
  0x9a,
  0x9b,
  0x9c,
  0x9d,
  0x9e,
  0x9f,
  0xa0,
  0xa1,
  0xa2,
]);
const AUTH_V5 = new Set([0, 0x18, 0x19]);

/** Decodes packet `type` (1, 2, 8-11, 13-15) at protocol level `version`. */
export function decodeControl(
  buf: Buffer,
  s: number,
  end: number,
  type: number,
  version: number,
  maxUserProperties = Infinity,
): MqttPacket {
  const r = new Reader(buf, s, end, maxUserProperties);
  const v5 = version === 5;
  let p: MqttPacket;
  switch (type) {
    case 1:
      p = _connect(r);
      break;
    case 2:
      p = _connack(r, v5);
      break;
    case 8:
      p = _subscribe(r, v5);
      break;
    case 9:
      p = _suback(r, v5);
      break;
    case 10:
      p = _unsubscribe(r, v5);
      break;
    case 11:
      p = _unsuback(r, v5);
      break;
    case 13:
      p = { cmd: "pingresp" };
      break;
    case 14:
      p = _disconnect(r, v5);
      break;
    case 15:
      p = _auth(r, v5);
      break;
    default:
      p = { cmd: "pingreq" };
  }
  if (r.left !== 0) throw malformed(`${r.left} bytes after the end of the ${p.cmd.toUpperCase()}`);
  return p;
}

function _connect(r: Reader): IConnectPacket {
  const protocolId = r.str("Protocol Name");
  if (protocolId !== "MQTT" && protocolId !== "MQIsdp") {
    throw malformed(`protocol name "${protocolId}" is not MQTT`, "[MQTT-3.1.2-1]");
  }
  // an unsupported level gets a CONNACK, so it is refused before the rest is decoded
  const version = r.u8("Protocol Level");
  if (version !== 3 && version !== 4 && version !== 5) {
    throw new MqttError(
      RC.UNSUPPORTED_PROTOCOL_VERSION,
      `Protocol level ${version} is not supported`,
      "[MQTT-3.1.2-2]",
    );
  }
  if ((version === 3) !== (protocolId === "MQIsdp")) {
    throw malformed(`protocol name "${protocolId}" does not go with level ${version}`, "[MQTT-3.1.2-1]");
  }
  const flags = r.u8("Connect Flags");
  if ((flags & 1) !== 0) throw malformed("the reserved Connect Flag is set", "[MQTT-3.1.2-3]");
  const hasWill = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 3;
  const willRetain = (flags & 0x20) !== 0;
  if (!hasWill && (willQos !== 0 || willRetain)) {
    throw malformed("Will QoS or Will Retain set without a will", "[MQTT-3.1.2-11]");
  }
  if (willQos === 3) throw malformed("Will QoS 3", "[MQTT-3.1.2-12]");
  const p: IConnectPacket = {
    cmd: "connect",
    protocolId,
    protocolVersion: version,
    clean: (flags & 0x02) !== 0,
    keepalive: r.u16("Keep Alive"),
    clientId: "",
  };
  if (version === 5) r.propsInto(p, 1);
  p.clientId = r.str("Client Identifier");
  if (hasWill) {
    const props = version === 5 ? r.props(WILL) : undefined;
    const topic = r.str("Will Topic");
    // copied: the will outlives the read buffer it arrived in by as long as the connection lasts
    const payload = Buffer.from(r.bin("Will Payload"));
    p.will = { topic, payload, qos: willQos as QoS, retain: willRetain };
    if (props !== undefined) p.will.properties = props;
  }
  if ((flags & 0x80) !== 0) p.username = r.str("User Name");
  if ((flags & 0x40) !== 0) p.password = r.bin("Password");
  return p;
}

function _connack(r: Reader, v5: boolean): IConnackPacket {
  const flags = r.u8("Connect Acknowledge Flags");
  if (flags > 1) throw malformed("reserved CONNACK flags are set", "[MQTT-3.2.2-1]");
  const code = r.u8("Connect Reason Code");
  const p: IConnackPacket = { cmd: "connack", sessionPresent: flags === 1 };
  if (v5) {
    p.reasonCode = code;
    r.propsInto(p, 2);
  } else p.returnCode = code;
  return p;
}

function _messageId(r: Reader): number {
  const id = r.u16("Packet Identifier");
  if (id === 0) throw malformed("Packet Identifier 0", "[MQTT-2.2.1-3]");
  return id;
}

function _subscribe(r: Reader, v5: boolean): ISubscribePacket {
  const p: ISubscribePacket = { cmd: "subscribe", messageId: _messageId(r), subscriptions: [] };
  if (v5) r.propsInto(p, 8);
  if (r.left === 0) throw protocolError("SUBSCRIBE without a topic filter", "[MQTT-3.8.3-2]");
  while (r.left > 0) {
    const topic = r.str("Topic Filter");
    const o = r.u8("Subscription Options");
    if ((o & (v5 ? 0xc0 : 0xfc)) !== 0) {
      throw malformed("reserved Subscription Options bits are set", "[MQTT-3.8.3-5]");
    }
    const qos = o & 3;
    if (qos === 3) throw malformed("subscription QoS 3", "[MQTT-3.8.3-4]");
    const sub: ISubscription = { topic, qos: qos as QoS };
    if (v5) {
      sub.nl = (o & 0x04) !== 0;
      sub.rap = (o & 0x08) !== 0;
      sub.rh = (o >> 4) & 3;
      if (sub.rh === 3) throw protocolError("Retain Handling 3");
    }
    p.subscriptions.push(sub);
  }
  return p;
}

function _suback(r: Reader, v5: boolean): ISubackPacket {
  const p: ISubackPacket = { cmd: "suback", messageId: _messageId(r), granted: [] };
  if (v5) r.propsInto(p, 9);
  while (r.left > 0) {
    const code = r.u8("Reason Code");
    if (v5 ? !SUBACK_V5.has(code) : code > 2 && code !== 0x80) {
      throw malformed(`SUBACK code 0x${code.toString(16)}`);
    }
    p.granted.push(code);
  }
  return p;
}

function _unsubscribe(r: Reader, v5: boolean): IUnsubscribePacket {
  const p: IUnsubscribePacket = { cmd: "unsubscribe", messageId: _messageId(r), unsubscriptions: [] };
  if (v5) r.propsInto(p, 10);
  if (r.left === 0) throw protocolError("UNSUBSCRIBE without a topic filter", "[MQTT-3.10.3-2]");
  while (r.left > 0) p.unsubscriptions.push(r.str("Topic Filter"));
  return p;
}

function _unsuback(r: Reader, v5: boolean): IUnsubackPacket {
  const p: IUnsubackPacket = { cmd: "unsuback", messageId: _messageId(r) };
  if (!v5) return p;
  r.propsInto(p, 11);
  const granted: number[] = (p.granted = []);
  while (r.left > 0) {
    const code = r.u8("Reason Code");
    if (!UNSUBACK_V5.has(code)) throw malformed(`UNSUBACK code 0x${code.toString(16)}`);
    granted.push(code);
  }
  return p;
}

function _disconnect(r: Reader, v5: boolean): IDisconnectPacket {
  const p: IDisconnectPacket = { cmd: "disconnect" };
  if (!v5) return p;
  // the reason code (0) and the properties may be left out [MQTT-3.14.2.1]
  p.reasonCode = r.left > 0 ? r.u8("Reason Code") : 0;
  if (!DISCONNECT_V5.has(p.reasonCode)) {
    throw malformed(`DISCONNECT reason code 0x${p.reasonCode.toString(16)}`);
  }
  if (r.left > 0) r.propsInto(p, 14);
  return p;
}

function _auth(r: Reader, v5: boolean): IAuthPacket {
  if (!v5) throw malformed("AUTH exists in MQTT 5 only");
  const p: IAuthPacket = { cmd: "auth", reasonCode: r.left > 0 ? r.u8("Reason Code") : 0 };
  if (!AUTH_V5.has(p.reasonCode)) throw malformed(`AUTH reason code 0x${p.reasonCode.toString(16)}`);
  if (r.left > 0) r.propsInto(p, 15);
  return p;
}
