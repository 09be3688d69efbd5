/** A Connection that passes everything to another one; subclasses change what they need to. */
import type { Connection, ConnectionHandlers, PeerCertificate } from "../runtime/connection.ts";

export class ForwardingConnection implements Connection {
  constructor(protected readonly conn: Connection) {}
  get remoteAddress(): string {
    return this.conn.remoteAddress;
  }
  get localPort(): number {
    return this.conn.localPort;
  }
  get copiesWrites(): boolean {
    return this.conn.copiesWrites;
  }
  start(h: ConnectionHandlers): void {
    this.conn.start(h);
  }
  write(buf: Buffer): boolean {
    return this.conn.write(buf);
  }
  pause(): void {
    this.conn.pause();
  }
  resume(): void {
    this.conn.resume();
  }
  end(): void {
    this.conn.end();
  }
  destroy(): void {
    this.conn.destroy();
  }
  peerCertificate(): PeerCertificate | undefined {
    return this.conn.peerCertificate();
  }
}
