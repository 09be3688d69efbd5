/**
 * Accumulates encoded packets into one contiguous buffer so that a connection makes one write per
 * event-loop turn. Written bytes are never reused: `take()` hands out a view and later packets go
 * after it, so the view stays valid while the socket holds it.
 */
import { writeVarint } from "./varint.ts";

const CHUNK = 64 * 1024;

/** Appends MQTT wire primitives to a growing buffer. */
export class PacketWriter {
  buf: Buffer = Buffer.allocUnsafe(CHUNK);
  pos = 0;
  private start = 0;

  /** Ensures `n` more bytes fit contiguously after the pending bytes. */
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const pending = this.pos - this.start;
    const next = Buffer.allocUnsafe(Math.max(CHUNK, (pending + n) * 2));
    this.buf.copy(next, 0, this.start, this.pos);
    this.buf = next;
    this.start = 0;
    this.pos = pending;
  }

  /** Number of bytes written since the last `take()`. */
  get pending(): number {
    return this.pos - this.start;
  }

  /** Returns the bytes written since the last call, or null when there are none. */
  take(): Buffer | null {
    if (this.pos === this.start) return null;
    const out = this.buf.subarray(this.start, this.pos);
    if (this.buf.length - this.pos < 1024) {
      this.buf = Buffer.allocUnsafe(CHUNK);
      this.pos = 0;
    }
    this.start = this.pos;
    return out;
  }

  /**
   * Gives back the region `take()` just returned, once nothing refers to it any more (the socket
   * copied it): the next packets reuse the same bytes instead of fresh memory.
   */
  reuse(taken: Buffer): void {
    if (this.pos !== this.start || taken.buffer !== this.buf.buffer) return;
    const at = taken.byteOffset - this.buf.byteOffset;
    if (at + taken.length !== this.start) return;
    this.start = this.pos = at;
  }

  /** Drops everything written since the last `take()`. */
  discard(): void {
    this.pos = this.start;
  }

  u8(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.reserve(2);
    this.buf[this.pos++] = v >>> 8;
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.reserve(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }

  varint(v: number): void {
    this.reserve(4);
    this.pos = writeVarint(this.buf, this.pos, v);
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}
