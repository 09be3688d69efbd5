/**
 * Connections of a multi-core broker: each worker accepts on the shared listeners, reads the
 * CONNECT, and binds the connection to its own broker core when the client identifier's session
 * lives there (homeWorker); otherwise it relays the bytes both ways to the worker where it does,
 * so that every session has exactly one home and takeover, resumption and persistence stay as on
 * one worker.
 */
import { homeWorker } from "../broker/peer_port.ts";
import type { Connection, ConnectionHandlers, PeerCertificate } from "../runtime/connection.ts";
import { connectClientId, SNIFF_LIMIT } from "./connect_client_id.ts";
import { Frame, type FrameWriter } from "./peer_frames.ts";
import type { PeerLink } from "./peer_link.ts";
import type { LinkOptions } from "./link.ts";
import { ForwardingConnection } from "./forwarding_connection.ts";

/** Longer than the broker waits for a CONNECT: a silent connection is the broker's to time out otherwise. */
const SNIFF_TIMEOUT_MS = 60_000;

interface OpenInfo {
  remoteAddress: string;
  localPort: number;
  cert: PeerCertificate | null;
  /** What the listener it came through says about it. */
  o: LinkOptions;
}

/** Binds accepted connections here or relays them. */
export class Relay {
  private nextId = 1;
  /** Connections accepted here and relayed away, by id. */
  private readonly away = new Map<number, Away>();
  /** Connections other workers relay here, by worker and id. */
  private readonly here: Map<number, RelayedConnection>[];

  constructor(
    private readonly link: PeerLink,
    private readonly attach: (conn: Connection, o: LinkOptions) => void,
  ) {
    this.here = Array.from({ length: link.count }, () => new Map());
    link.relay = (from, kind, id, body) => this._frame(from, kind, id, body);
    link.onRelayCongested = (peer, on) => this._congested(peer, on);
  }

  /** The channel to `peer` is full of relayed bytes (or no longer): hold what feeds it. */
  private _congested(peer: number, on: boolean): void {
    for (const a of this.away.values()) {
      if (a.home !== peer || a.paused) continue;
      if (on) a.conn.pause();
      else a.conn.resume();
    }
    for (const rc of this.here[peer]!.values()) rc.congest(on);
  }

  /** A connection a shared listener accepted. */
  accept(conn: Connection, o: LinkOptions): void {
    const s = new Sniffer(conn, (prefix, id) => this._decide(conn, s, prefix, id, o));
    conn.start(s);
  }

  private _decide(conn: Connection, s: Sniffer, prefix: Buffer, id: string | null, o: LinkOptions): void {
    const home = id === null || id === "" ? this.link.self : homeWorker(id, this.link.count);
    if (home === this.link.self) return this.attach(new SniffedConnection(conn, s, prefix), o);
    const rid = this.nextId++;
    this.away.set(rid, { conn, home, paused: false });
    const w = this.link.relayTo(home);
    const info: OpenInfo = {
      remoteAddress: conn.remoteAddress,
      localPort: conn.localPort,
      cert: conn.peerCertificate() ?? null,
      o,
    };
    w.text(Frame.Open, rid, JSON.stringify(info));
    w.frame(Frame.Data, rid, prefix);
    this.link.arm();
    s.target = new AwayHandlers(this.link, w, rid, () => this.away.delete(rid));
  }

  private _frame(from: number, kind: number, id: number, body: Buffer): void {
    if (kind === Frame.Open) {
      const rc = new RelayedConnection(this.link, from, id, JSON.parse(body.toString("utf8")) as OpenInfo);
      this.here[from]!.set(id, rc);
      this.attach(rc, rc.info.o);
      return;
    }
    if (kind >= Frame.Write) return this._toSocket(from, kind, id, body);
    const rc = this.here[from]!.get(id);
    if (rc === undefined) return;
    if (kind === Frame.Data) rc.handlers?.onData(body);
    else if (kind === Frame.Blocked) rc.blocked = true;
    else if (kind === Frame.Drain) {
      rc.blocked = false;
      if (!this.link.relayCongestedTo(from)) rc.handlers?.onDrain();
    } else if (kind === Frame.Closed) {
      this.here[from]!.delete(id);
      rc.handlers?.onClose();
    }
  }

  /** What the session's worker asks of a socket accepted here. */
  private _toSocket(from: number, kind: number, id: number, body: Buffer): void {
    const a = this.away.get(id);
    if (a === undefined) return;
    const conn = a.conn;
    if (kind === Frame.Write) {
      if (!conn.write(body)) {
        this.link.relayTo(from).frame(Frame.Blocked, id);
        this.link.arm();
      }
    } else if (kind === Frame.Pause) {
      a.paused = true;
      conn.pause();
    } else if (kind === Frame.Resume) {
      a.paused = false;
      if (!this.link.relayCongestedTo(from)) conn.resume();
    } else if (kind === Frame.End) conn.end();
    else if (kind === Frame.Destroy) conn.destroy();
  }
}

/** A connection accepted here whose session is on worker `home`; `paused` by that worker. */
interface Away {
  conn: Connection;
  home: number;
  paused: boolean;
}

/** Collects a connection's first bytes until its CONNECT is complete, then passes everything on to `target`. */
class Sniffer implements ConnectionHandlers {
  target: ConnectionHandlers | null = null;
  private buf: Buffer = Buffer.alloc(0);
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(conn: Connection, private readonly decide: (prefix: Buffer, id: string | null) => void) {
    this.timer = setTimeout(() => conn.destroy(), SNIFF_TIMEOUT_MS);
    this.timer.unref?.();
  }

  onData(chunk: Buffer): void {
    if (this.target !== null) return this.target.onData(chunk);
    this.buf = this.buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.buf, chunk]);
    const id = connectClientId(this.buf);
    if (id === undefined && this.buf.length < SNIFF_LIMIT) return;
    clearTimeout(this.timer);
    this.decide(this.buf, id ?? null);
  }

  onDrain(): void {
    this.target?.onDrain();
  }

  onClose(): void {
    clearTimeout(this.timer);
    this.target?.onClose();
  }
}

/** A connection bound here after sniffing: the bytes read so far come first. */
class SniffedConnection extends ForwardingConnection {
  constructor(conn: Connection, private readonly s: Sniffer, private readonly prefix: Buffer) {
    super(conn);
  }
  override start(h: ConnectionHandlers): void {
    this.s.target = h;
    h.onData(this.prefix);
  }
}

/** The socket side of a relayed connection: what it reads and how it fares go to the session's worker. */
class AwayHandlers implements ConnectionHandlers {
  constructor(
    private readonly link: PeerLink,
    private readonly w: FrameWriter,
    private readonly id: number,
    private readonly gone: () => void,
  ) {}
  onData(chunk: Buffer): void {
    this.w.frame(Frame.Data, this.id, chunk);
    this.link.arm();
  }
  onDrain(): void {
    this.w.frame(Frame.Drain, this.id);
    this.link.arm();
  }
  onClose(): void {
    this.gone();
    this.w.frame(Frame.Closed, this.id);
    this.link.arm();
  }
}

/** The session's side of a relayed connection: a Connection whose socket is on another worker. */
class RelayedConnection implements Connection {
  readonly copiesWrites = true;
  handlers: ConnectionHandlers | null = null;
  /** The socket on the other worker pushed back; cleared by its Drain. */
  blocked = false;
  /** The channel back to the socket's worker is full. */
  private congested = false;
  private readonly w: FrameWriter;

  constructor(
    private readonly link: PeerLink,
    from: number,
    private readonly id: number,
    readonly info: OpenInfo,
  ) {
    this.w = link.relayTo(from);
  }
  get remoteAddress(): string {
    return this.info.remoteAddress;
  }
  get localPort(): number {
    return this.info.localPort;
  }
  start(h: ConnectionHandlers): void {
    this.handlers = h;
  }
  write(buf: Buffer): boolean {
    this.w.frame(Frame.Write, this.id, buf);
    this.link.arm();
    return !this.blocked && !this.congested;
  }
  congest(on: boolean): void {
    this.congested = on;
    if (!on && !this.blocked) this.handlers?.onDrain();
  }
  private _say(kind: number): void {
    this.w.frame(kind, this.id);
    this.link.arm();
  }
  private paused = false;
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this._say(Frame.Pause);
  }
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this._say(Frame.Resume);
  }
  end(): void {
    this._say(Frame.End);
  }
  destroy(): void {
    this._say(Frame.Destroy);
  }
  peerCertificate(): PeerCertificate | undefined {
    return this.info.cert ?? undefined;
  }
}
