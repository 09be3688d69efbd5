/** The client identifier of a connection's first packet, read before the connection is bound anywhere. */
import { readVarint } from "../protocol/varint.ts";

/** Bytes of a first packet beyond which a connection is handled where it arrived. */
export const SNIFF_LIMIT = 256 * 1024;

/**
 * The client identifier of the CONNECT at the start of `buf`: undefined while the packet is
 * incomplete, null when it is not a well-formed CONNECT (the broker then refuses it as usual).
 */
export function connectClientId(buf: Buffer): string | null | undefined {
  if (buf.length < 2) return undefined;
  if (buf[0] !== 0x10) return null;
  let head: number;
  try {
    head = readVarint(buf, 1, buf.length);
  } catch {
    // truncated while fewer than its 4 bytes have come; longer than 4 bytes otherwise
    return buf.length < 5 ? undefined : null;
  }
  const len = Math.floor(head / 8);
  let p = 1 + (head & 7);
  if (p + len > SNIFF_LIMIT) return null;
  if (buf.length < p + len) return undefined;
  const end = p + len;
  if (p + 2 > end) return null;
  p += 2 + buf.readUInt16BE(p); // protocol name
  if (p + 4 > end) return null;
  const level = buf[p]!;
  p += 4; // level, flags, keep alive
  if (level === 5) {
    try {
      const props = readVarint(buf, p, end);
      p += (props & 7) + Math.floor(props / 8);
    } catch {
      return null;
    }
  }
  if (p + 2 > end) return null;
  const idLen = buf.readUInt16BE(p);
  if (p + 2 + idLen > end) return null;
  return buf.toString("utf8", p + 2, p + 2 + idLen);
}
