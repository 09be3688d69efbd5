/**
 * The byte format between workers: a batch is frames of [kind u8][id u32][length u32][body], built
 * over one event-loop turn into one buffer that is transferred, not copied, when posted.
 */
import type { Message } from "../broker/state.ts";
import { createMessage } from "../broker/message.ts";

export const Frame = {
  /** Routing (peer_link.ts): body is a filter as subscribed. */
  Sub: 1,
  Unsub: 2,
  /** Routing: a forwarded message; id is how (Forward). */
  Msg: 3,
  /**
   * Connections relayed to the worker that holds their session (relay.ts): from the socket's
   * worker to the session's ...
   */
  Open: 10,
  Data: 11,
  Blocked: 12,
  Drain: 13,
  Closed: 14,
  /** ... and back, from Write on. */
  Write: 15,
  Pause: 16,
  Resume: 17,
  End: 18,
  Destroy: 19,
} as const;

const HEAD = 9;
const NO_PROPS = 0xffffffff;

/** Appends frames; take() hands the batch over. */
export class FrameWriter {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private len = 0;

  get length(): number {
    return this.len;
  }

  private _room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private _head(kind: number, id: number, bodyLen: number): void {
    this._room(HEAD + bodyLen);
    const b = this.buf;
    b[this.len] = kind;
    b.writeUInt32LE(id, this.len + 1);
    b.writeUInt32LE(bodyLen, this.len + 5);
    this.len += HEAD;
  }

  frame(kind: number, id: number, body?: Uint8Array): void {
    const n = body === undefined ? 0 : body.length;
    this._head(kind, id, n);
    if (body !== undefined) {
      this.buf.set(body, this.len);
      this.len += n;
    }
  }

  text(kind: number, id: number, s: string): void {
    const n = Buffer.byteLength(s);
    this._head(kind, id, n);
    this.buf.write(s, this.len, "utf8");
    this.len += n;
  }

  /** A message: qos, retain, expiry, topic, properties, group key, then the payload. */
  message(how: number, msg: Message, key: string): void {
    const keyLen = key.length === 0 ? 0 : Buffer.byteLength(key);
    const props = msg.props;
    const n = 18 + msg.topicBytes + (props === null ? 0 : props.length) + keyLen + msg.payload.length;
    this._head(Frame.Msg, how, n);
    const b = this.buf;
    let p = this.len;
    b[p] = msg.qos;
    b[p + 1] = msg.retain ? 1 : 0;
    b.writeDoubleLE(msg.expiresAt, p + 2);
    b.writeUInt16LE(msg.topicBytes, p + 10);
    p += 12;
    p += b.write(msg.topic, p, "utf8");
    b.writeUInt32LE(props === null ? NO_PROPS : props.length, p);
    p += 4;
    if (props !== null) p += props.copy(b, p);
    b.writeUInt16LE(keyLen, p);
    p += 2;
    if (keyLen > 0) p += b.write(key, p, "utf8");
    p += msg.payload.copy(b, p);
    this.len = p;
  }

  /** The batch so far, as a buffer of its own to transfer; null when empty. */
  take(): ArrayBuffer | null {
    if (this.len === 0) return null;
    const out = this.buf.buffer.slice(this.buf.byteOffset, this.buf.byteOffset + this.len) as ArrayBuffer;
    this.len = 0;
    return out;
  }
}

/** Calls `fn` for each frame of `batch` from `at`; stops when `fn` returns false and returns where. */
export function readFrames(
  batch: Buffer,
  at: number,
  fn: (kind: number, id: number, body: Buffer) => boolean,
): number {
  let p = at;
  while (p < batch.length) {
    const kind = batch[p]!;
    const id = batch.readUInt32LE(p + 1);
    const n = batch.readUInt32LE(p + 5);
    const body = batch.subarray(p + HEAD, p + HEAD + n);
    p += HEAD + n;
    if (!fn(kind, id, body)) return p;
  }
  return p;
}

/** The message of a Msg frame body, and its group key ("" when none); the payload stays in `body`. */
export function readMessage(body: Buffer): { msg: Message; key: string } {
  const qos = body[0]! as 0 | 1 | 2;
  const retain = body[1] === 1;
  const expiresAt = body.readDoubleLE(2);
  const topicLen = body.readUInt16LE(10);
  let p = 12;
  const topic = body.toString("utf8", p, p + topicLen);
  p += topicLen;
  const propsLen = body.readUInt32LE(p);
  p += 4;
  let props: Buffer | null = null;
  if (propsLen !== NO_PROPS) {
    props = body.subarray(p, p + propsLen);
    p += propsLen;
  }
  const keyLen = body.readUInt16LE(p);
  p += 2;
  const key = keyLen === 0 ? "" : body.toString("utf8", p, p + keyLen);
  p += keyLen;
  const msg = createMessage(topic, body.subarray(p), { qos, retain, props, expiresAt, topicBytes: topicLen });
  return { msg, key };
}
