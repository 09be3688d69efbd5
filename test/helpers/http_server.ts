/** A real HTTP(S) server on 127.0.0.1 for the tests of HTTP authentication: it records every request. */
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

/** One request as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body read as form fields or JSON, whichever it is. */
  fields: Record<string, string>;
}

/** The running server. */
export interface TestHttpServer {
  url: string;
  seen: SeenRequest[];
  /** Decides the status of each request; "hang" never answers. */
  answer: (r: SeenRequest) => number | "hang";
  close(): Promise<void>;
}

/** Starts a server (HTTPS with `tls`) answering 200 until `answer` is replaced. */
export async function startHttpServer(tls?: { key: string; cert: string }): Promise<TestHttpServer> {
  const open = new Set<http.ServerResponse>();
  const me: TestHttpServer = {
    url: "",
    seen: [],
    answer: () => 200,
    close: () =>
      new Promise((r) => {
        for (const res of open) res.destroy();
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => (body += d));
    req.on("end", () => {
      const u = new URL(req.url ?? "/", "http://x");
      const fields = (req.headers["content-type"] ?? "").includes("json")
        ? JSON.parse(body || "{}")
        : Object.fromEntries(new URLSearchParams(body));
      const r: SeenRequest = {
        method: req.method ?? "",
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        body,
        fields,
      };
      me.seen.push(r);
      const status = me.answer(r);
      if (status === "hang") return void open.add(res);
      res.writeHead(status).end();
    });
  };
  const server = tls === undefined ? http.createServer(onRequest) : https.createServer(tls, onRequest);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as AddressInfo).port;
  me.url = `${tls === undefined ? "http" : "https"}://${
    tls === undefined ? "127.0.0.1" : "localhost"
  }:${port}`;
  return me;
}
