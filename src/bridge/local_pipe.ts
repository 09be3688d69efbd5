import type { Connection, ConnectionHandlers } from "../runtime/connection.ts";
/**
 * The bridge's connection to its own broker: an in-memory Connection that the transport binds like
 * an accepted socket, so the bridge is an ordinary (trusted) MQTT 5 client of the broker.
 */

/** The bridge's side of the pipe. */
export interface PipePeer {
  /** Bytes from the broker; false asks the broker to wait for drain(). */
  bytes(buf: Buffer): boolean;
  /** The broker stopped (true) or started again (false) reading what the bridge pushes. */
  paused(on: boolean): void;
  /** The pipe closed, from either side; called once. */
  closed(): void;
}

export class LocalPipe implements Connection {
  readonly copiesWrites = false;
  readonly trusted = true;
  private h: ConnectionHandlers | null = null;
  private closed = false;

  constructor(readonly remoteAddress: string, private readonly peer: PipePeer) {}

  start(h: ConnectionHandlers): void {
    this.h = h;
  }

  /** Bytes for the bridge, from the broker. */
  write(buf: Buffer): boolean {
    return this.closed || this.peer.bytes(buf);
  }

  /** Bytes for the broker, from the bridge. */
  push(buf: Buffer): void {
    if (!this.closed) this.h?.onData(buf);
  }

  /** The bridge can take bytes again after write() returned false. */
  drain(): void {
    if (!this.closed) this.h?.onDrain();
  }

  pause(): void {
    this.peer.paused(true);
  }

  resume(): void {
    this.peer.paused(false);
  }

  end(): void {
    this.destroy();
  }

  /** Closed by either side: the broker detaches the bridge's client, the bridge hears of it once. */
  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.h?.onClose();
    this.peer.closed();
  }

  readonly localPort = 0;

  peerCertificate(): undefined {
    return undefined;
  }
}
