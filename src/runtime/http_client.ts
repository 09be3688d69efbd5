/**
 * Outgoing HTTP(S) requests on node:http / node:https (HTTP authentication), with keep-alive
 * connection pools, a connect timeout and a timeout for the whole answer.
 */
import type http from "node:http";
import type https from "node:https";
import { RuntimeError } from "./runtime_error.ts";
import type { ClientTlsOptions } from "./tls_options.ts";

/** One request. */
export interface HttpRequest {
  url: string;
  method: "GET" | "POST" | "PUT" | "DELETE";
  headers: Record<string, string>;
  body?: string;
  /** The whole answer must be in within this (ms). */
  timeoutMs: number;
  /** The connection must be up within this (ms). */
  connectTimeoutMs: number;
  /** For https: URLs. */
  tls?: ClientTlsOptions;
}

/** What came back. */
export interface HttpResponse {
  status: number;
  body: string;
}

/** Sends a request; rejects with a RuntimeError ("http") when no answer came. */
export type HttpRequester = (r: HttpRequest) => Promise<HttpResponse>;

/** Bodies larger than this are cut: an authentication answer is a status, not a download. */
const MAX_BODY = 64 * 1024;

interface Libs {
  http: typeof http;
  https: typeof https;
  agents: { http: http.Agent; https: https.Agent };
}

/** node:http and node:https are loaded on the first request: a broker without HTTP pays no memory for them. */
async function _load(poolSize: number): Promise<Libs> {
  const [h, hs] = await Promise.all([import("node:http"), import("node:https")]);
  const agents = {
    http: new h.default.Agent({ keepAlive: true, maxSockets: poolSize }),
    https: new hs.default.Agent({ keepAlive: true, maxSockets: poolSize }),
  };
  return { http: h.default, https: hs.default, agents };
}

/** A requester keeping at most `poolSize` connections per server open. */
export function createHttpClient(poolSize: number): HttpRequester {
  let libs: Promise<Libs> | null = null;
  return async (r) => _request(await (libs ??= _load(poolSize)), r);
}

function _request({ http, https, agents }: Libs, r: HttpRequest): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const fail = (why: string) => reject(new RuntimeError("http", `${r.method} ${r.url}: ${why}`));
    let url: URL;
    try {
      url = new URL(r.url);
    } catch {
      return fail("not a URL");
    }
    const secure = url.protocol === "https:";
    const lib = secure ? https : http;
    const req = lib.request(url, {
      method: r.method,
      headers: r.body === undefined
        ? r.headers
        : { ...r.headers, "content-length": Buffer.byteLength(r.body) },
      agent: secure ? agents.https : agents.http,
      ...(secure ? { ...r.tls, servername: url.hostname } : {}),
    });
    const whole = setTimeout(
      () => req.destroy(new Error(`no answer within ${r.timeoutMs} ms`)),
      r.timeoutMs,
    );
    req.on("socket", (s) => {
      if (!s.connecting) return;
      const t = setTimeout(
        () => req.destroy(new Error(`no connection within ${r.connectTimeoutMs} ms`)),
        r.connectTimeoutMs,
      );
      s.once(secure ? "secureConnect" : "connect", () => clearTimeout(t));
      s.once("close", () => clearTimeout(t));
    });
    req.on("error", (e) => {
      clearTimeout(whole);
      fail(e.message);
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        if (body.length < MAX_BODY) body += d;
      });
      res.on("end", () => {
        clearTimeout(whole);
        resolve({ status: res.statusCode ?? 0, body });
      });
      res.on("error", (e) => {
        clearTimeout(whole);
        fail(e.message);
      });
    });
    req.end(r.body);
  });
}
