/** The one byte-stream abstraction every listener produces (TCP now; TLS and WebSocket later). */

/** Callbacks a connection reports to. */
export interface ConnectionHandlers {
  onData(chunk: Buffer): void;
  /** The socket accepts writes again after `write()` returned false. */
  onDrain(): void;
  /** Closed, for whatever reason; called once. */
  onClose(): void;
}

/** A bidirectional byte stream to one client. */
export interface Connection {
  readonly remoteAddress: string;
  /** True when a `write()` that returned true no longer refers to the buffer it was given. */
  readonly copiesWrites: boolean;
  /** Starts delivering events; call once. */
  start(h: ConnectionHandlers): void;
  /** Queues bytes; false when the caller should wait for `drain` (backpressure). */
  write(buf: Buffer): boolean;
  /** Stops / restarts reading (backpressure toward a peer we cannot write to). */
  pause(): void;
  resume(): void;
  /** Sends what is queued, then closes. */
  end(): void;
  /** Closes at once. */
  destroy(): void;
  /** The Common Name of the client certificate, when one was presented and verified. */
  peerCommonName(): string | undefined;
  /** A connection from inside the broker (a bridge): no authentication, no access control. */
  readonly trusted?: boolean;
}

/** The CN of a certificate subject (which may list several). */
export function commonName(subject: { CN?: string | string[] } | undefined): string | undefined {
  const cn = subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}
