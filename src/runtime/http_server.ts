/**
 * The HTTP server of the management API, on node:http (loaded by the first one started): the same
 * code under Bun, Node.js (the armv7 bundle) and Deno. Requests are read whole, up to a bound, and
 * handed over as plain records; the handler's answer is written with a Content-Length.
 */
import type http from "node:http";
import type { ServerHandle } from "./connection.ts";

/** A request as the handler sees it. */
export interface HttpRequest {
  method: string;
  /** The path without the query, percent-decoding left to the handler. */
  path: string;
  query: URLSearchParams;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

/** What the handler answers. */
export interface HttpReply {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

/** An HTTP listener's settings. */
export interface HttpListenOptions {
  host: string;
  port: number;
  /** Connections open at once; a request on one more gets 503 and is closed (http_server.limit_conn). */
  maxConnections: number;
  /** Largest request body read; a larger one gets 413. */
  maxBody: number;
}

/** Idle keep-alive connections are closed after this (a dashboard polls more often). */
const KEEP_ALIVE_MS = 30_000;
/** A request that has not arrived whole within this gets 408 (a slow client holds no slot for long). */
const REQUEST_TIMEOUT_MS = 30_000;

/** Starts an HTTP server; the handler never sees a request whose body is over the bound. */
export async function listenHttp(
  o: HttpListenOptions,
  handle: (req: HttpRequest) => Promise<HttpReply>,
): Promise<ServerHandle> {
  const { default: nodeHttp } = await import("node:http");
  // Bun's node:http neither honours maxConnections nor reports a connection before its first
  // request: connections are counted by their requests, the same way under every runtime
  const open = new Set<object>();
  const server = nodeHttp.createServer({ requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => {
    const socket = req.socket;
    if (!open.has(socket)) {
      if (open.size >= o.maxConnections) return _send(res, { status: 503, body: '{"code":102}' }, true);
      open.add(socket);
      socket.once("close", () => open.delete(socket));
    }
    void _serve(req, res, o.maxBody, handle);
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.on("clientError", (_e, socket) => {
    if (socket.writable) {
      socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    } else socket.destroy();
  });
  return await new Promise<ServerHandle>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: o.host, port: o.port }, () => {
      server.off("error", reject);
      const a = server.address() as { address: string; port: number };
      resolve({
        address: { host: a.address, port: a.port },
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function _serve(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  maxBody: number,
  handle: (req: HttpRequest) => Promise<HttpReply>,
): Promise<void> {
  res.on("error", () => {});
  const body = await _readBody(req, maxBody);
  if (body === null) return _send(res, { status: 413, body: '{"code":108}' }, true);
  const url = new URL(req.url ?? "/", "http://localhost");
  let reply: HttpReply;
  try {
    reply = await handle({
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers as Record<string, string | undefined>,
      body,
    });
  } catch {
    reply = { status: 500, body: '{"code":102}' };
  }
  _send(res, reply, false);
}

/** The whole body, or null when it is over `max` (the rest is not read: the connection closes). */
function _readBody(req: http.IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on("data", (b: Buffer) => {
      size += b.length;
      if (size > max) {
        req.removeAllListeners("data");
        resolve(null);
        return;
      }
      parts.push(b);
    });
    req.on("end", () => resolve(size > max ? null : Buffer.concat(parts)));
    req.on("error", () => resolve(null));
  });
}

function _send(res: http.ServerResponse, r: HttpReply, close: boolean): void {
  if (res.headersSent) return;
  const body = typeof r.body === "string" ? Buffer.from(r.body) : r.body;
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    ...r.headers,
    "content-length": body.length,
  };
  if (close) headers.connection = "close";
  res.writeHead(r.status, headers).end(body);
}
