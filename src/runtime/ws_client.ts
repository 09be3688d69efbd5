/**
 * MQTT over WebSocket as a client (the client tools' ws:// and wss:// URLs): ws under every
 * runtime, the "mqtt" subprotocol, binary frames. ws is loaded by the first such connection.
 */
import type { Connection } from "./connection.ts";
import { RuntimeError } from "./runtime_error.ts";
import type { ClientTlsOptions } from "./tls_options.ts";
import { WsConnection } from "./ws_listener.ts";

/** Where a WebSocket connection goes: wss:// when `tls` is given. */
export interface WsConnectOptions {
  host: string;
  port: number;
  /** The HTTP path of the upgrade, e.g. "/mqtt". */
  path: string;
  tls?: ClientTlsOptions;
  timeoutMs: number;
}

/** Opens the WebSocket; rejects with the reason it could not be made (HTTP status, TLS, network). */
export async function connectWs(o: WsConnectOptions): Promise<Connection> {
  const { WebSocket } = await import("ws");
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  const url = `${o.tls === undefined ? "ws" : "wss"}://${host}:${o.port}${o.path}`;
  const ws = new WebSocket(url, ["mqtt"], {
    perMessageDeflate: false,
    handshakeTimeout: o.timeoutMs,
    ...(o.tls ?? {}),
  });
  ws.binaryType = "nodebuffer";
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      ws.removeAllListeners();
      ws.on("error", () => {});
      ws.terminate();
      reject(new RuntimeError("connect", why));
    };
    const timer = setTimeout(() => fail(`no connection within ${o.timeoutMs} ms`), o.timeoutMs);
    ws.once("error", (e: Error) => fail(e.message));
    ws.once(
      "unexpected-response",
      (_req, res) => fail(`the server answered the upgrade with HTTP ${res.statusCode}`),
    );
    ws.once("open", () => {
      clearTimeout(timer);
      ws.removeAllListeners();
      resolve(new WsConnection(ws, `${o.host}:${o.port}`, 0));
    });
  });
}
