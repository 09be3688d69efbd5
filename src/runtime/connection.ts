/** What the runtime produces for the transport: byte streams to clients, and the listeners they come from. */

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
  /** The port of the listener it came through (0 for the broker's own). */
  readonly localPort: number;
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
  /** The client certificate's Common Name and subject, when one was presented and verified. */
  peerCertificate(): PeerCertificate | undefined;
  /** A connection from inside the broker (a bridge): no authentication, no access control. */
  readonly trusted?: boolean;
}

/** What a verified client certificate says. */
export interface PeerCertificate {
  cn: string | undefined;
  /** The subject as "CN=device-1,O=Example". */
  subject: string;
}

/** A listening socket. */
export interface ServerHandle {
  /** The address actually bound (the port is known when 0 was asked for). */
  readonly address: { host: string; port: number };
  /** Stops accepting; existing connections stay. */
  close(): Promise<void>;
}
