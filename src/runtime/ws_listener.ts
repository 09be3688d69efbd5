/**
 * MQTT over WebSocket on node:http / node:https + ws: the same code under Bun, Node.js and Deno.
 * Binary frames carry the MQTT byte stream (packets may span frames, a frame may hold several);
 * an upgrade on any other path gets 404.
 */
import type http from "node:http";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type { Connection, ConnectionHandlers, ServerHandle } from "./connection.ts";
import { TLS_HANDSHAKE_TIMEOUT_MS, tlsLibraryOptions, type TlsOptions } from "./tls_options.ts";

/** A WebSocket listener's settings. */
export interface WsListenOptions {
  host: string;
  port: number;
  /** The only path upgraded, e.g. "/mqtt". */
  path: string;
  /** WSS when given. */
  tls?: TlsOptions;
  /** Largest frame accepted, bytes. */
  maxFrame: number;
}

/** Bytes queued in ws beyond which write() reports backpressure. */
const HIGH_WATER = 64 * 1024;

/** A WebSocket carrying MQTT, accepted here or made by {@link connectWs}. */
export class WsConnection implements Connection {
  readonly copiesWrites = false;
  private h: ConnectionHandlers | null = null;
  private waiting = false;
  /** One callback for every send: no closure per write. */
  private readonly sent = (): void => {
    if (this.waiting && this.ws.bufferedAmount < HIGH_WATER) {
      this.waiting = false;
      this.h?.onDrain();
    }
  };

  constructor(private readonly ws: WebSocket, readonly remoteAddress: string, readonly localPort: number) {}

  start(h: ConnectionHandlers): void {
    this.h = h;
    const ws = this.ws;
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      // MQTT travels in binary frames only [MQTT-6.0.0-1]
      if (!isBinary) ws.close(1003, "MQTT needs binary frames");
      else h.onData(data);
    });
    ws.once("close", () => h.onClose());
    ws.on("error", () => {}); // 'close' follows; the broker learns of it there
  }
  write(buf: Buffer): boolean {
    this.ws.send(buf, { binary: true }, this.sent);
    if (this.ws.bufferedAmount < HIGH_WATER) return true;
    this.waiting = true;
    return false;
  }
  pause(): void {
    this.ws.pause();
  }
  resume(): void {
    this.ws.resume();
  }
  end(): void {
    this.ws.close(1000);
  }
  destroy(): void {
    this.ws.terminate();
  }
  peerCertificate(): undefined {
    return undefined; // WSS listeners do not ask for client certificates
  }
}

/**
 * Listens for MQTT over WebSocket (WSS with `o.tls`). node:http, node:https and ws are loaded
 * here, by the first WebSocket listener: a broker without one pays no memory for them.
 */
export async function listenWs(
  o: WsListenOptions,
  onConnection: (c: Connection) => void,
): Promise<ServerHandle> {
  const [{ default: http }, { default: https }, { WebSocketServer }] = await Promise.all([
    import("node:http"),
    import("node:https"),
    import("ws"),
  ]);
  const server = o.tls === undefined ? http.createServer() : https.createServer({
    ...tlsLibraryOptions(o.tls),
    handshakeTimeout: o.tls.handshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS,
  });
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: o.maxFrame,
    // the MQTT subprotocol is "mqtt" [MQTT-6.0.0-3]; MQTT 3.1 clients ask for "mqttv3.1"
    handleProtocols: (p: Set<string>) => (p.has("mqtt") ? "mqtt" : p.has("mqttv3.1") ? "mqttv3.1" : false),
  });
  server.on("request", (_req, res) => {
    res.writeHead(426, { "content-type": "text/plain" }).end(`MQTT over WebSocket: upgrade at ${o.path}\n`);
  });
  server.on("upgrade", (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", () => {});
    if ((req.url ?? "/").split("?")[0] !== o.path) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const addr = `${req.socket.remoteAddress ?? "?"}:${req.socket.remotePort ?? 0}`;
    const port = req.socket.localPort ?? 0;
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(new WsConnection(ws, addr, port)));
  });
  server.on("tlsClientError", () => {}); // a failed handshake concerns that client only
  return new Promise<ServerHandle>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: o.host, port: o.port, backlog: 4096 }, () => {
      server.off("error", reject);
      const a = server.address() as { address: string; port: number };
      resolve({
        address: { host: a.address, port: a.port },
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
