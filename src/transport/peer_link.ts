/**
 * The link from one worker to every other: what the broker core forwards (peering.ts) and the
 * relayed connections (relay.ts) are batched per peer over an event-loop turn and posted once.
 * Forwarding is bounded: past PEER_SOFT bytes not yet taken by a peer the core holds the
 * publishers that forward to it; past PEER_HARD what would be forwarded is dropped, counted.
 */
import type { Broker } from "../broker/broker.ts";
import type { Logger } from "../broker/deps.ts";
import type { PeerPort } from "../broker/peer_port.ts";
import type { Message } from "../broker/state.ts";
import type { PeerChannel, WorkerSeat } from "../runtime/workers.ts";
import { Frame, FrameWriter, readFrames, readMessage } from "./peer_frames.ts";

/** Bytes forwarded to a peer and not yet taken at which publishers are held, and where it drops. */
export const PEER_SOFT = 1024 * 1024;
export const PEER_HARD = 16 * 1024 * 1024;

/** What one post carries: routing frames, relay frames, bytes of routing taken, a control message. */
interface Post {
  r?: ArrayBuffer;
  x?: ArrayBuffer;
  /** Bytes of routing taken since the last post, and the number of the last batch taken. */
  a?: number;
  b?: number;
  /** Bytes of relay frames taken since the last post. */
  y?: number;
  c?: Record<string, unknown>;
}

interface Inbound {
  buf: Buffer;
  at: number;
}

/** Frames of relayed connections, as relay.ts handles them. */
export type RelayHandler = (from: number, kind: number, id: number, body: Buffer) => void;

/** One worker's link to the others. */
export class PeerLink implements PeerPort {
  readonly self: number;
  readonly count: number;
  /** Messages not forwarded because a peer had PEER_HARD bytes not taken yet. */
  droppedLag = 0;
  broker: Broker | null = null;
  relay: RelayHandler | null = null;
  onControl: (from: number, c: Record<string, unknown>) => void = () => {};
  /** Relayed bytes to `peer` not yet taken passed PEER_SOFT (true) or fell back (false). */
  onRelayCongested: (peer: number, congested: boolean) => void = () => {};
  private readonly channels: (PeerChannel | null)[];
  private readonly routing: FrameWriter[] = [];
  private readonly relayed: FrameWriter[] = [];
  private readonly unacked: number[];
  private readonly toAck: number[];
  private readonly relayUnacked: number[];
  private readonly relayToAck: number[];
  private readonly relayCongested: boolean[];
  private readonly held: boolean[];
  private readonly inbound: Inbound[][];
  private armed = false;
  private lagging = false;
  /** Routing batches posted to each peer, and taken (and committed) from each. */
  private readonly posted: number[];
  private readonly taken: number[];
  /** Commits this worker's store: what peers forward is on disk before they hear it was taken. */
  commit: (() => void) | null = null;

  constructor(seat: WorkerSeat, public log: Logger) {
    this.self = seat.index;
    this.count = seat.count;
    this.channels = seat.channels;
    for (let p = 0; p < this.count; p++) {
      this.routing.push(new FrameWriter());
      this.relayed.push(new FrameWriter());
    }
    this.unacked = Array<number>(this.count).fill(0);
    this.toAck = Array<number>(this.count).fill(0);
    this.relayUnacked = Array<number>(this.count).fill(0);
    this.relayToAck = Array<number>(this.count).fill(0);
    this.relayCongested = Array<boolean>(this.count).fill(false);
    this.held = Array<boolean>(this.count).fill(false);
    this.posted = Array<number>(this.count).fill(0);
    this.taken = Array<number>(this.count).fill(0);
    this.inbound = Array.from({ length: this.count }, () => []);
    seat.channels.forEach((ch, p) => ch?.onMessage((m) => this._receive(p, m as Post)));
  }

  interest(peer: number, key: string, added: boolean): void {
    this.routing[peer]!.text(added ? Frame.Sub : Frame.Unsub, 0, key);
    this.arm();
  }

  forward(peer: number, msg: Message, how: number, key: string): boolean {
    const w = this.routing[peer]!;
    if (this.unacked[peer]! + w.length > PEER_HARD) {
      this.droppedLag++;
      if (!this.lagging) {
        this.lagging = true;
        this.log.warn(`Worker ${peer} does not keep up: messages routed to its clients are dropped`);
      }
      return false;
    }
    w.message(how, msg, key);
    this.arm();
    return true;
  }

  nextBatch(peer: number): number {
    return this.posted[peer]! + 1;
  }

  congested(peer: number): boolean {
    return this.unacked[peer]! + this.routing[peer]!.length > PEER_SOFT;
  }

  hold(peer: number): void {
    this.held[peer] = true;
  }

  release(peer: number): void {
    this.held[peer] = false;
    // not now: release() runs inside another connection's flush
    setImmediate(() => this._process(peer));
  }

  relayCongestedTo(peer: number): boolean {
    return this.relayCongested[peer]!;
  }

  /** Where relay.ts appends the frames of its connections to `peer`; call arm() after. */
  relayTo(peer: number): FrameWriter {
    return this.relayed[peer]!;
  }

  /** A control message, posted at once (start, stop, reload between the first worker and the others). */
  control(peer: number, c: Record<string, unknown>): void {
    // after what is pending, so that a peer told "ready" has heard every subscription first
    this._flush();
    this.channels[peer]?.post({ c } satisfies Post, []);
  }

  arm(): void {
    if (this.armed) return;
    this.armed = true;
    setImmediate(this._flush);
  }

  close(): void {
    for (const ch of this.channels) ch?.close();
  }

  private readonly _flush = (): void => {
    this.armed = false;
    for (let p = 0; p < this.count; p++) {
      const ch = this.channels[p];
      if (ch === null || ch === undefined) continue;
      const r = this.routing[p]!.take();
      const x = this.relayed[p]!.take();
      const a = this.toAck[p]!;
      const y = this.relayToAck[p]!;
      if (r === null && x === null && a === 0 && y === 0) continue;
      const post: Post = {};
      const transfer: ArrayBuffer[] = [];
      if (r !== null) {
        post.r = r;
        transfer.push(r);
        this.unacked[p]! += r.byteLength;
        this.posted[p]!++;
      }
      if (x !== null) {
        post.x = x;
        transfer.push(x);
        this._relayed(p, x.byteLength);
      }
      if (y !== 0) {
        post.y = y;
        this.relayToAck[p] = 0;
      }
      if (a !== 0) {
        post.a = a;
        post.b = this.taken[p]!;
        this.toAck[p] = 0;
      }
      ch.post(post, transfer);
    }
  };

  private _receive(from: number, m: Post): void {
    if (m.c !== undefined) this.onControl(from, m.c);
    if (m.a !== undefined) {
      this.unacked[from]! -= m.a;
      this.broker?.peerCommitted(from, m.b!);
      if (this.unacked[from]! <= PEER_SOFT >> 2) {
        this.lagging = false;
        this.broker?.peerDrained(from);
      }
    }
    if (m.y !== undefined) this._relayed(from, -m.y);
    if (m.x !== undefined) {
      const relay = this.relay;
      readFrames(Buffer.from(m.x), 0, (kind, id, body) => {
        relay?.(from, kind, id, body);
        return true;
      });
      this.relayToAck[from]! += m.x.byteLength;
      this.arm();
    }
    if (m.r !== undefined) {
      this.inbound[from]!.push({ buf: Buffer.from(m.r), at: 0 });
      this._process(from);
    }
  }

  /**
   * Relayed sockets are read as fast as they come, and a peer that cannot keep up would let its
   * channel grow without bound: past PEER_SOFT bytes not taken, the sockets relayed to it pause.
   */
  private _relayed(peer: number, bytes: number): void {
    const n = (this.relayUnacked[peer]! += bytes);
    const congested = this.relayCongested[peer]! ? n > PEER_SOFT >> 2 : n > PEER_SOFT;
    if (congested === this.relayCongested[peer]) return;
    this.relayCongested[peer] = congested;
    this.onRelayCongested(peer, congested);
  }

  /** Routes what `from` forwarded, until it is all done or a congested session here holds `from`. */
  private _process(from: number): void {
    const q = this.inbound[from]!;
    const b = this.broker;
    if (b === null) return;
    const route = (kind: number, how: number, body: Buffer): boolean => {
      if (kind === Frame.Msg) {
        const { msg, key } = readMessage(body);
        b.peerMessage(from, msg, how, key);
      } else if (kind === Frame.Sub || kind === Frame.Unsub) {
        b.peerInterest(from, body.toString("utf8"), kind === Frame.Sub);
      }
      return !this.held[from];
    };
    let took = false;
    while (q.length > 0 && !this.held[from]) {
      const head = q[0]!;
      head.at = readFrames(head.buf, head.at, route);
      if (head.at < head.buf.length) break;
      q.shift();
      this.toAck[from]! += head.buf.length;
      this.taken[from]!++;
      took = true;
    }
    if (!took) return;
    this.commit?.();
    this.arm();
  }
}
