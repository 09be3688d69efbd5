/** Encodes the forwarded MQTT 5 message properties from object form (will messages). */
import { PacketWriter } from "./packet_writer.ts";

/** Message properties of a CONNECT's will, as control_decode.ts gives them. */
export interface MessageProps {
  payloadFormatIndicator?: boolean;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Buffer;
  userProperties?: { [name: string]: string | string[] };
}

function _string(w: PacketWriter, s: string | Buffer): void {
  const b = typeof s === "string" ? Buffer.from(s, "utf8") : s;
  w.u16(b.length);
  w.bytes(b);
}

/** The raw property bytes forwarded with a message, or null when there are none. */
export function encodeMessageProps(p: MessageProps | undefined): Buffer | null {
  if (p === undefined) return null;
  const w = new PacketWriter();
  if (p.payloadFormatIndicator === true) {
    w.u8(0x01);
    w.u8(1);
  }
  if (p.contentType !== undefined) {
    w.u8(0x03);
    _string(w, p.contentType);
  }
  if (p.responseTopic !== undefined) {
    w.u8(0x08);
    _string(w, p.responseTopic);
  }
  if (p.correlationData !== undefined) {
    w.u8(0x09);
    _string(w, p.correlationData);
  }
  for (const [name, value] of Object.entries(p.userProperties ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) {
      w.u8(0x26);
      _string(w, name);
      _string(w, v);
    }
  }
  const out = w.take();
  return out === null ? null : Buffer.from(out);
}
