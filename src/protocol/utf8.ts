/** UTF-8 well-formedness checks for MQTT strings [MQTT-1.5.4-1] [MQTT-1.5.4-2]. */

const strict = new TextDecoder("utf-8", { fatal: true });
const REPLACEMENT = Buffer.from([0xef, 0xbf, 0xbd]);

/** True when `bytes[start, end)` is well-formed UTF-8 without U+0000. */
export function isValidUtf8(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  let ascii = true;
  for (let i = start; i < end; i++) {
    const b = bytes[i] as number;
    if (b === 0) return false;
    if (b >= 0x80) ascii = false;
  }
  if (ascii) return true;
  try {
    strict.decode(bytes.subarray(start, end));
    return true;
  } catch {
    return false;
  }
}

/**
 * True when a string decoded leniently (invalid sequences became U+FFFD) came from well-formed
 * UTF-8 without U+0000. `raw` is the packet the string was decoded from.
 */
export function isCleanString(s: string, raw: Uint8Array): boolean {
  if (s.includes("\u0000")) return false;
  if (!s.includes("\uFFFD")) return true;
  return Buffer.from(raw.buffer, raw.byteOffset, raw.length).includes(REPLACEMENT);
}
