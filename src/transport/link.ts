/**
 * Per connection: decode each chunk into packets for the broker, and write the connection's output
 * once per event-loop turn, stopping while the socket pushes back.
 */
import type { Broker } from "../broker/broker.ts";
import { Decoder } from "../protocol/codec.ts";
import { PacketWriter } from "../protocol/packet_writer.ts";
import { MqttError, RC } from "../protocol/reason_code.ts";
import { type Client, type ClientSink, ClientState } from "../broker/state.ts";
import type { Logger } from "../broker/deps.ts";
import type { Connection, ConnectionHandlers, PeerCertificate } from "../runtime/connection.ts";

/** Bytes encoded per connection per turn before yielding to the others. */
const FLUSH_BUDGET = 256 * 1024;
/**
 * Deliveries queued for one connection that trigger a flush at once instead of at the end of the
 * turn: under a flood, runtimes service socket reads for long stretches before running immediates,
 * and a subscriber's queue would otherwise overflow while its socket sits idle.
 */
const EAGER_FLUSH = 512;
/**
 * After the last packet, a closing connection is half-closed and its input read and discarded
 * until the client closes or this long has passed (a lingering close): a socket closed with
 * unread input sends a reset, which can destroy the DISCONNECT before the client has read it.
 * Also the bound on a client that does not take its last bytes.
 */
const CLOSE_GRACE_MS = 5000;
/**
 * Acknowledgements waiting for one connection that are written at once, in the middle of decoding
 * its input (once per chunk read): a publisher with a window of messages in flight then sends the
 * next ones while the broker works through the rest of its batch, instead of both sides taking
 * turns. 1 → 1 at QoS 1 (scripts/bench.ts scenario b): +30%, the broker's core busy instead of
 * waiting. Only while few connections wait for this turn's flush (EARLY_MAX_WAITING): with many
 * publishers the turn is long anyway and the extra writes cost more than they overlap (20 → 1 at
 * QoS 1: -17% without that bound).
 */
const ACK_FLUSH = 16;
const EARLY_MAX_WAITING = 4;

/**
 * Batches the flushes of all links into one callback at the end of the event-loop turn. With a
 * `commit` (persistence on), every link's output is encoded first, then the journal is committed
 * once, then everything is written: no acknowledgement and no PUBLISH with a packet identifier
 * leaves before the state it reports is on disk.
 */
export class FlushScheduler {
  private queue: Link[] = [];
  private armed = false;
  /** One writer shared by all links: each take() hands out a fresh region. */
  readonly writer = new PacketWriter();
  private readonly run = (): void => {
    this.armed = false;
    const q = this.queue;
    this.queue = [];
    if (this.commit === null) {
      for (let i = 0; i < q.length; i++) q[i]!.flush();
      return;
    }
    for (let i = 0; i < q.length; i++) q[i]!.prepare();
    this.commit();
    for (let i = 0; i < q.length; i++) q[i]!.send();
  };

  constructor(readonly commit: (() => void) | null = null) {}

  get waiting(): number {
    return this.queue.length;
  }

  add(link: Link): void {
    this.queue.push(link);
    if (!this.armed) {
      this.armed = true;
      setImmediate(this.run);
    }
  }
}

/** What a connection's listener decides about it. */
export interface LinkOptions {
  /** The verified client certificate's CN is the user name (Mosquitto's use_identity_as_username). */
  useCn: boolean;
  /** Largest packet taken from it and told to it as Maximum Packet Size (MQTT 5). */
  maxPacketSize: number;
}

/** Binds one Connection to the broker. */
export class Link implements ClientSink, ConnectionHandlers {
  blocked = false;
  /** The broker's own connection (a bridge): read on every PUBLISH, so a field, not a getter. */
  readonly trusted: boolean;
  readonly client: Client;
  /** Held by flow control: undecoded bytes wait in the decoder. */
  private held = false;
  private scheduled = false;
  /** Queue length at which wake() flushes before the end of the turn. */
  private eagerAt = 0;
  private closing = false;
  /** An internal error ended this connection (see _fail). */
  private failed = false;
  private readonly useCn: boolean;
  readonly maxPacketSize: number;
  private readonly decoder: Decoder;

  constructor(
    private readonly conn: Connection,
    private readonly broker: Broker,
    private readonly flusher: FlushScheduler,
    private readonly log: Logger,
    o: LinkOptions | null = null,
  ) {
    const opts = broker.options;
    this.useCn = o?.useCn === true;
    this.maxPacketSize = o?.maxPacketSize ?? opts.maxPacketSize;
    this.decoder = new Decoder({
      maxPacketSize: this.maxPacketSize,
      maxUserProperties: opts.maxUserProperties,
    });
    this.trusted = conn.trusted === true;
    this.client = broker.attach(this);
    conn.start(this); // the link is its own handler object: no closures per connection
  }

  get remoteAddress(): string {
    return this.conn.remoteAddress;
  }

  get certUsername(): string | undefined {
    return this.useCn ? this.conn.peerCertificate()?.cn : undefined;
  }

  get localPort(): number {
    return this.conn.localPort;
  }

  peerCertificate(): PeerCertificate | undefined {
    return this.conn.peerCertificate();
  }

  onData(chunk: Buffer): void {
    if (this.client.state === ClientState.Closed) return;
    this.broker.metrics.bytesReceived += chunk.length;
    this.decoder.push(chunk);
    this._process();
  }

  /** Hands decoded packets to the broker until the input runs out or the broker holds this client. */
  private _process(): void {
    const c = this.client;
    const d = this.decoder;
    let early = false;
    try {
      while (!this.held) {
        const p = d.next();
        if (p === null) return;
        this.broker.handle(c, p);
        if ((c.state as ClientState) === ClientState.Closed) return; // handle() may close it
        if (!early && c.ctrl.length >= ACK_FLUSH && this._mayFlushEarly()) {
          early = true;
          this._write();
        }
      }
    } catch (e) {
      if (e instanceof MqttError) this.broker.reject(c, e);
      else {
        this._logInternal(e, "reading");
        this.broker.reject(c, new MqttError(RC.UNSPECIFIED_ERROR, "Internal error"));
      }
    }
  }

  /** Not with persistence: an early write needs a commit of its own, and the fsync costs more. */
  private _mayFlushEarly(): boolean {
    return !this.blocked && this.flusher.commit === null && this.flusher.waiting <= EARLY_MAX_WAITING;
  }

  private _logInternal(e: unknown, doing: string): void {
    const id = this.client.session?.clientId ?? "";
    this.log.error(
      `Internal error while ${doing} a connection from ${this.remoteAddress}; only it is closed: ${
        (e as Error)?.stack ?? e
      }`,
      id,
    );
  }

  /**
   * A bug met while writing this connection's output: the broker cannot say why on this
   * connection any more, so the socket is closed; the other connections go on.
   */
  private _fail(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this._logInternal(e, "writing to");
    this.blocked = true; // nothing more is encoded for it
    this.ready = false;
    this.pending = null;
    // not now: this may run inside another connection's fan-out, which the detach must not change
    queueMicrotask(() => this.conn.destroy());
  }

  /**
   * Output is queued: flush at the end of this turn, or at once when the queue grew by EAGER_FLUSH
   * within the turn. Growth, not length: a session draining a long backlog would otherwise flush
   * (and with persistence, commit) on every acknowledgement.
   */
  wake(): void {
    if (this.blocked) return;
    if (!this.scheduled) this._schedule();
    else if ((this.client.session?.queue.length ?? 0) >= this.eagerAt) {
      this._write();
      this.eagerAt = (this.client.session?.queue.length ?? 0) + EAGER_FLUSH;
    }
  }

  private _schedule(): void {
    this.scheduled = true;
    this.eagerAt = (this.client.session?.queue.length ?? 0) + EAGER_FLUSH;
    this.flusher.add(this);
  }

  /** Writes everything the broker has for this connection, in one write. */
  flush(): void {
    this.prepare();
    this.send();
  }

  /** Encodes the output, to be written by send() (after the scheduler's commit). */
  prepare(): void {
    this.scheduled = false;
    this.ready = false;
    if (this.blocked) return;
    try {
      this.more = this.broker.fill(this.client, this.flusher.writer, FLUSH_BUDGET);
    } catch (e) {
      this.flusher.writer.discard(); // a part-encoded packet must not go to the next link
      return this._fail(e);
    }
    this.pending = this.flusher.writer.take();
    this.ready = true;
  }

  send(): void {
    if (!this.ready) return;
    this.ready = false;
    try {
      this._send();
      if (this.closing) this._finish();
      else if (this.more) this.wake();
    } catch (e) {
      this._fail(e);
    }
  }

  /** Output encoded by prepare() and not yet written, and whether more was left queued. */
  private pending: Buffer | null = null;
  private more = false;
  private ready = false;

  private _send(): void {
    const buf = this.pending;
    this.pending = null;
    if (buf === null) return;
    this.broker.metrics.bytesSent += buf.length;
    if (!this.conn.write(buf)) {
      this.blocked = true;
      this._reading();
    } else if (this.conn.copiesWrites) this.flusher.writer.reuse(buf);
  }

  /** An eager flush in the middle of a turn: commits first, as the scheduler would. */
  private _write(): void {
    try {
      this.broker.fill(this.client, this.flusher.writer, FLUSH_BUDGET);
    } catch (e) {
      this.flusher.writer.discard();
      return this._fail(e);
    }
    this.pending = this.flusher.writer.take();
    this.flusher.commit?.();
    this._send();
  }

  hold(): void {
    this.held = true;
    this._reading();
  }

  release(): void {
    this.held = false;
    this._reading();
    // not now: release() runs inside another connection's flush
    queueMicrotask(() => {
      if (this.client.state !== ClientState.Closed) this._process();
    });
  }

  /** Reads only while the socket takes our writes and flow control does not hold us. */
  private _reading(): void {
    if (this.blocked || this.held) this.conn.pause();
    else this.conn.resume();
  }

  onDrain(): void {
    if (!this.blocked || this.failed) return;
    this.blocked = false;
    // while blocked the link does not read, so the client's PINGREQs wait unread; that it takes
    // our bytes shows it is alive
    this.client.active = true;
    if (!this.closing) this._reading();
    this.wake();
  }

  /** The broker is done with this connection: send what is queued, then close. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.blocked = false; // end() sends what the socket still holds
    this.wake();
  }

  private _finish(): void {
    this.conn.end();
    this.held = false;
    this.conn.resume(); // onData discards what still arrives
    setTimeout(() => this.conn.destroy(), CLOSE_GRACE_MS).unref?.();
  }

  onClose(): void {
    this.broker.detach(this.client);
  }
}
