/** MQTT's Variable Byte Integer [MQTT-1.5.5], shared by every codec. */
import { MqttError, RC } from "./reason_code.ts";

/** Number of bytes the variable byte integer `v` takes on the wire. */
export function varintSize(v: number): number {
  return v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
}

/** Writes `v` at `at` (the caller made room); returns the position after it. */
export function writeVarint(b: Uint8Array, at: number, v: number): number {
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    b[at++] = byte;
  } while (v > 0);
  return at;
}

/**
 * Reads the variable byte integer at `buf[p]`, not reading past `end`. Returns the value and its
 * byte count packed as `value * 8 + count`, so the hot path allocates nothing.
 */
export function readVarint(buf: Buffer, p: number, end: number, what = "Variable byte integer"): number {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 4; i++) {
    if (p + i >= end) throw new MqttError(RC.MALFORMED_PACKET, `Malformed packet: ${what} is truncated`);
    const b = buf[p + i]!;
    value += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return value * 8 + i + 1;
    mul *= 128;
  }
  throw new MqttError(
    RC.MALFORMED_PACKET,
    `Malformed packet: ${what} is longer than 4 bytes`,
    "[MQTT-1.5.5-1]",
  );
}
