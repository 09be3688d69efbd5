/**
 * MQTT 5 properties of the control packets, decoded to and encoded from {@link Properties} by one
 * table (MQTT 5 table 2-4), and the bounds-checked reader the control packet decoder uses.
 */
import type { Properties, UserProperties } from "./packets.ts";
import { MqttError, RC } from "./reason_code.ts";
import { readVarint, varintSize, writeVarint } from "./varint.ts";

type Kind = "bool" | "u8" | "u16" | "u32" | "var" | "str" | "bin" | "pair";

/** Bit of the packets a property may appear in: the packet type, and bit 0 for a CONNECT's will. */
export const WILL = 0;
const CONNECT = 1 << 1;
const CONNACK = 1 << 2;
const PUBLISH = 1 << 3;
const WILL_BIT = 1 << WILL;
const ACKS = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7);
const SUBSCRIBE = 1 << 8;
const SUBACK = 1 << 9;
const UNSUBACK = 1 << 11;
const DISCONNECT = 1 << 14;
const AUTH = 1 << 15;
const MESSAGE = PUBLISH | WILL_BIT;
const ALL = 0xffff & ~(1 << 12) & ~(1 << 13);

interface Spec {
  name: keyof Properties;
  kind: Kind;
  packets: number;
}

const SPECS: (Spec | undefined)[] = [];
const IDS = new Map<string, number>();
function def(id: number, name: keyof Properties, kind: Kind, packets: number): void {
  SPECS[id] = { name, kind, packets };
  IDS.set(name, id);
}
def(0x01, "payloadFormatIndicator", "bool", MESSAGE);
def(0x02, "messageExpiryInterval", "u32", MESSAGE);
def(0x03, "contentType", "str", MESSAGE);
def(0x08, "responseTopic", "str", MESSAGE);
def(0x09, "correlationData", "bin", MESSAGE);
def(0x0b, "subscriptionIdentifier", "var", PUBLISH | SUBSCRIBE);
def(0x11, "sessionExpiryInterval", "u32", CONNECT | CONNACK | DISCONNECT);
def(0x12, "assignedClientIdentifier", "str", CONNACK);
def(0x13, "serverKeepAlive", "u16", CONNACK);
def(0x15, "authenticationMethod", "str", CONNECT | CONNACK | AUTH);
def(0x16, "authenticationData", "bin", CONNECT | CONNACK | AUTH);
def(0x17, "requestProblemInformation", "bool", CONNECT);
def(0x18, "willDelayInterval", "u32", WILL_BIT);
def(0x19, "requestResponseInformation", "bool", CONNECT);
def(0x1a, "responseInformation", "str", CONNACK);
def(0x1c, "serverReference", "str", CONNACK | DISCONNECT);
def(0x1f, "reasonString", "str", CONNACK | ACKS | SUBACK | UNSUBACK | DISCONNECT | AUTH);
def(0x21, "receiveMaximum", "u16", CONNECT | CONNACK);
def(0x22, "topicAliasMaximum", "u16", CONNECT | CONNACK);
def(0x23, "topicAlias", "u16", PUBLISH);
def(0x24, "maximumQoS", "u8", CONNACK);
def(0x25, "retainAvailable", "bool", CONNACK);
def(0x26, "userProperties", "pair", ALL);
def(0x27, "maximumPacketSize", "u32", CONNECT | CONNACK);
def(0x28, "wildcardSubscriptionAvailable", "bool", CONNACK);
def(0x29, "subscriptionIdentifiersAvailable", "bool", CONNACK);
def(0x2a, "sharedSubscriptionAvailable", "bool", CONNACK);

function malformed(what: string, rule?: string): MqttError {
  return new MqttError(RC.MALFORMED_PACKET, `Malformed packet: ${what}`, rule);
}

/** A packet with more User Properties than the broker takes (its `mqtt.property_size`). */
export function tooManyUserProperties(max: number): MqttError {
  return new MqttError(
    RC.QUOTA_EXCEEDED,
    `More than ${max} User Properties in one packet (mqtt.property_size)`,
  );
}

/** Reads MQTT primitives from `buf[pos, end)`; every read past `end` is a Malformed Packet. */
export class Reader {
  private users = 0;

  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
    private readonly maxUsers = Infinity,
  ) {}

  get left(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.pos + n > this.end) throw malformed(`${what} is truncated`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  varint(what: string): number {
    const packed = readVarint(this.buf, this.pos, this.end, what);
    this.pos += packed % 8;
    return Math.floor(packed / 8);
  }

  /** A binary field: two-byte length, then the bytes (a view into the packet). */
  bin(what: string): Buffer {
    const n = this.u16(what);
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** A string, decoded leniently: the broker checks well-formedness where the spec asks it to. */
  str(what: string): string {
    const n = this.u16(what);
    this.need(n, what);
    const s = this.buf.toString("utf8", this.pos, this.pos + n);
    this.pos += n;
    return s;
  }

  /**
   * A property list for packet `type` (1-15, or {@link WILL}); undefined when it is empty. A
   * property the packet may not carry is a Malformed Packet, one given twice a Protocol Error
   * [MQTT-2.2.2-2]; User Properties repeat.
   */
  props(type: number): Properties | undefined {
    const len = this.varint("Property Length");
    this.need(len, "Properties");
    const end = this.pos + len;
    if (len === 0) return undefined;
    const out: Record<string, unknown> = {};
    const where = type === WILL ? "a will" : `packet type ${type}`;
    while (this.pos < end) {
      const id = this.varint("Property Identifier");
      const spec = SPECS[id];
      if (spec === undefined || (spec.packets & (1 << type)) === 0) {
        throw malformed(`property 0x${id.toString(16)} is not allowed in ${where}`);
      }
      if (spec.kind === "pair") {
        if (++this.users > this.maxUsers) throw tooManyUserProperties(this.maxUsers);
        _addUserProperty(out, this.str("User Property"), this.str("User Property"));
      } else {
        if (out[spec.name] !== undefined) {
          throw new MqttError(RC.PROTOCOL_ERROR, `Property ${spec.name} appears twice`, "[MQTT-2.2.2-2]");
        }
        out[spec.name] = _value(this, spec);
      }
      if (this.pos > end) throw malformed(`${spec.name} runs past the Property Length`);
    }
    return out as Properties;
  }

  /** Reads the property list for packet `type` into `p.properties`, which stays unset when empty. */
  propsInto(p: { properties?: Properties }, type: number): void {
    const props = this.props(type);
    if (props !== undefined) p.properties = props;
  }
}

function _addUserProperty(out: Record<string, unknown>, name: string, value: string): void {
  const all = (out.userProperties ??= Object.create(null)) as UserProperties;
  const had = all[name];
  if (had === undefined) all[name] = value;
  else if (Array.isArray(had)) had.push(value);
  else all[name] = [had, value];
}

function _value(r: Reader, spec: Spec): unknown {
  const what = spec.name;
  switch (spec.kind) {
    case "bool": {
      const v = r.u8(what);
      if (v > 1) throw new MqttError(RC.PROTOCOL_ERROR, `Property ${what} must be 0 or 1`);
      return v === 1;
    }
    case "u8":
      return r.u8(what);
    case "u16":
      return r.u16(what);
    case "u32":
      return r.u32(what);
    case "var":
      return r.varint(what);
    case "str":
      return r.str(what);
    default:
      return r.bin(what);
  }
}

/** One encoded property list, length prefix included; reuse it for size and write. */
export function encodeProperties(p: Properties | undefined): Buffer {
  const body = p === undefined ? null : encodePropertyBytes(p);
  if (body === null) return ZERO;
  const out = Buffer.allocUnsafe(varintSize(body.length) + body.length);
  body.copy(out, writeVarint(out, 0, body.length));
  return out;
}

const ZERO = Buffer.from([0]);

/**
 * The properties without their length prefix, as a message's properties are kept and forwarded;
 * null when there are none.
 */
export function encodePropertyBytes(p: Properties): Buffer | null {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(p)) {
    if (value === undefined) continue;
    const id = IDS.get(name);
    if (id === undefined) throw new TypeError(`Unknown MQTT 5 property "${name}"`);
    const spec = SPECS[id]!;
    if (spec.kind === "pair") {
      for (const [k, v] of Object.entries(value as UserProperties)) {
        for (const one of Array.isArray(v) ? v : [v]) {
          parts.push(Buffer.from([id]), lengthPrefixed(k), lengthPrefixed(one));
        }
      }
    } else parts.push(_encodeValue(id, spec.kind, value));
  }
  return parts.length === 0 ? null : Buffer.concat(parts);
}

/** A string or binary field: two-byte length, then the bytes. */
export function lengthPrefixed(v: string | Uint8Array): Buffer {
  const bytes = typeof v === "string" ? Buffer.from(v, "utf8") : v;
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  out.set(bytes, 2);
  return out;
}

function _encodeValue(id: number, kind: Kind, value: unknown): Buffer {
  switch (kind) {
    case "bool":
    case "u8":
      return Buffer.from([id, Number(value)]);
    case "u16":
      return Buffer.from([id, (value as number) >>> 8, (value as number) & 0xff]);
    case "u32": {
      const b = Buffer.allocUnsafe(5);
      b[0] = id;
      b.writeUInt32BE(value as number, 1);
      return b;
    }
    case "var": {
      const b = Buffer.allocUnsafe(1 + varintSize(value as number));
      writeVarint(b, 1, value as number);
      b[0] = id;
      return b;
    }
    default:
      return Buffer.concat([Buffer.from([id]), lengthPrefixed(value as string | Buffer)]);
  }
}
