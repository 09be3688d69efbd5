/** The client identifier of a connection's first packet, read before the connection is bound anywhere. */

/** Bytes of a first packet beyond which a connection is handled where it arrived. */
export const SNIFF_LIMIT = 256 * 1024;

/**
 * The client identifier of the CONNECT at the start of `buf`: undefined while the packet is
 * incomplete, null when it is not a well-formed CONNECT (the broker then refuses it as usual).
 */
export function connectClientId(buf: Buffer): string | null | undefined {
  if (buf.length < 2) return undefined;
  if (buf[0] !== 0x10) return null;
  let len = 0;
  let p = 1;
  for (let mul = 1;; mul *= 128) {
    if (p >= buf.length) return undefined;
    const b = buf[p++]!;
    len += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) break;
    if (p > 4) return null;
  }
  if (p + len > SNIFF_LIMIT) return null;
  if (buf.length < p + len) return undefined;
  const end = p + len;
  if (p + 2 > end) return null;
  p += 2 + buf.readUInt16BE(p); // protocol name
  if (p + 4 > end) return null;
  const level = buf[p]!;
  p += 4; // level, flags, keep alive
  if (level === 5) {
    let props = 0;
    for (let mul = 1, n = 0;; mul *= 128, n++) {
      if (p >= end || n > 3) return null;
      const b = buf[p++]!;
      props += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) break;
    }
    p += props;
  }
  if (p + 2 > end) return null;
  const idLen = buf.readUInt16BE(p);
  if (p + 2 + idLen > end) return null;
  return buf.toString("utf8", p + 2, p + 2 + idLen);
}
