/**
 * NanoMQ's (and EMQX's) HTTP authentication, `auth.http_auth`: CONNECT asks `auth_req`, then
 * `super_req`; PUBLISH and SUBSCRIBE that no ACL rule decided ask `acl_req`. HTTP 200 allows,
 * anything else denies; so do a timeout and an unreachable server, never allowing by accident.
 */
import type { AclVerdict, Identity } from "../broker/auth_port.ts";

/** One of auth_req, super_req, acl_req, its TLS files already read. */
export interface HttpRequestSpec {
  url: string;
  method: "post" | "get";
  /** Header names in lower case; `content-type` picks the POST body's form (default form-urlencoded). */
  headers: Record<string, string>;
  /** Parameter name -> value with placeholders (%u %c %a %r %P %p %C %d %A %t %m). */
  params: Record<string, string>;
  tls?: { ca?: string; cert?: string; key?: string; passphrase?: string; rejectUnauthorized?: boolean };
}

/** `auth.http_auth` with `auth.cache`. */
export interface HttpAuthSettings {
  auth: HttpRequestSpec | null;
  superuser: HttpRequestSpec | null;
  acl: HttpRequestSpec | null;
  timeoutMs: number;
  connectTimeoutMs: number;
  /** `pool_size`: connections kept open to the server. */
  poolSize: number;
  /** `auth.cache.ttl`: how long an acl_req answer is kept; 0 asks every time. */
  cacheTtlMs: number;
  /** `auth.cache.max_size`: answers kept per client. */
  cacheSize: number;
}

/** Sends one request (the runtime's HTTP client); rejects when no answer came. */
export type HttpSend = (r: {
  url: string;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  connectTimeoutMs: number;
  tls?: NonNullable<HttpRequestSpec["tls"]>;
}) => Promise<{ status: number }>;

/** What HTTP authentication needs from outside. */
export interface HttpAuthDeps {
  send: HttpSend;
  now(): number;
  /** Failed requests are reported here, at most once every 10 s per request kind. */
  warn(msg: string): void;
}

const WARN_EVERY_MS = 10_000;
/** Clients whose acl_req answers are kept (each at most `auth.cache.max_size` of them). */
const CACHED_CLIENTS = 10_000;

/** The answers a client got from acl_req, by action and topic, with when each expires. */
type AclCache = Map<string, [boolean, number]>;

/** Asks the configured HTTP server. */
export class HttpAuth {
  private readonly caches = new Map<string, AclCache>();
  private readonly lastWarn = new Map<string, number>();
  private readonly suppressed = new Map<string, number>();

  constructor(readonly s: HttpAuthSettings, private readonly d: HttpAuthDeps) {}

  /** auth_req answered 200. */
  async authenticate(who: Identity, password: Buffer | undefined): Promise<boolean> {
    return await this._ask("auth_req", this.s.auth!, who, { password });
  }

  /** super_req is configured and answered 200. */
  async isSuperuser(who: Identity, password: Buffer | undefined): Promise<boolean> {
    return this.s.superuser !== null && await this._ask("super_req", this.s.superuser, who, { password });
  }

  /** acl_req's answer for a publish or a subscription, from the cache while it lasts. */
  authorize(who: Identity, action: "publish" | "subscribe", topic: string): AclVerdict | Promise<AclVerdict> {
    const rule = `${this.s.acl!.url} (acl_req)`;
    const key = `${action === "publish" ? 2 : 1}${topic}`;
    const id = `${who.clientId}\u0000${who.username ?? ""}`;
    const cache = this.caches.get(id);
    const hit = cache?.get(key);
    const now = this.d.now();
    if (hit !== undefined && hit[1] > now) return { allow: hit[0], rule };
    return this._ask("acl_req", this.s.acl!, who, { access: action === "publish" ? "2" : "1", topic }).then(
      (allow) => {
        if (this.s.cacheTtlMs > 0) this._remember(id, key, allow);
        return { allow, rule };
      },
    );
  }

  private _remember(id: string, key: string, allow: boolean): void {
    let cache = this.caches.get(id);
    if (cache === undefined) {
      // clients come and go for months: the oldest client's answers make room
      if (this.caches.size >= CACHED_CLIENTS) this.caches.delete(this.caches.keys().next().value!);
      this.caches.set(id, cache = new Map());
    }
    if (cache.size >= this.s.cacheSize) cache.delete(cache.keys().next().value!);
    cache.set(key, [allow, this.d.now() + this.s.cacheTtlMs]);
  }

  private async _ask(
    kind: string,
    spec: HttpRequestSpec,
    who: Identity,
    extra: { password?: Buffer | undefined; access?: string; topic?: string },
  ): Promise<boolean> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(spec.params)) params.append(k, fillPlaceholders(v, who, extra));
    const json = (spec.headers["content-type"] ?? "").includes("json");
    const get = spec.method === "get";
    const headers = get || json || spec.headers["content-type"] !== undefined
      ? spec.headers
      : { ...spec.headers, "content-type": "application/x-www-form-urlencoded" };
    const url = get ? `${spec.url}${spec.url.includes("?") ? "&" : "?"}${params}` : spec.url;
    const body = get ? undefined : json ? JSON.stringify(Object.fromEntries(params)) : params.toString();
    try {
      const r = await this.d.send({
        url,
        method: get ? "GET" : "POST",
        headers,
        ...(body === undefined ? {} : { body }),
        timeoutMs: this.s.timeoutMs,
        connectTimeoutMs: this.s.connectTimeoutMs,
        ...(spec.tls === undefined ? {} : { tls: spec.tls }),
      });
      if (r.status >= 500) this._warn(kind, `${kind} to ${spec.url} answered ${r.status}; denied`);
      return r.status === 200;
    } catch (e) {
      this._warn(kind, `${kind} failed (${(e as Error).message}); denied`);
      return false;
    }
  }

  private _warn(kind: string, msg: string): void {
    const now = this.d.now();
    if (now - (this.lastWarn.get(kind) ?? -Infinity) < WARN_EVERY_MS) {
      this.suppressed.set(kind, (this.suppressed.get(kind) ?? 0) + 1);
      return;
    }
    const n = this.suppressed.get(kind) ?? 0;
    this.suppressed.set(kind, 0);
    this.lastWarn.set(kind, now);
    this.d.warn(n > 0 ? `${msg} (and ${n} more failures in the last ${WARN_EVERY_MS / 1000} s)` : msg);
  }
}

/**
 * Fills NanoMQ's placeholders: %u user name, %c client id, %a IP address, %r MQTT level,
 * %P password, %p the listener's port, %C and %d the client certificate's CN and subject,
 * %A access (1 subscribe, 2 publish), %t topic, %m mountpoint (none here: empty).
 */
export function fillPlaceholders(
  value: string,
  who: Identity,
  extra: { password?: Buffer | undefined; access?: string; topic?: string },
): string {
  return value.replace(/%[ucarPpCdAtm]/g, (ph) => {
    switch (ph[1]) {
      case "u":
        return who.username ?? "";
      case "c":
        return who.clientId;
      case "a":
        return who.ip;
      case "r":
        return String(who.protocol ?? "");
      case "P":
        return extra.password?.toString("utf8") ?? "";
      case "p":
        return String(who.port ?? "");
      case "C":
        return who.certCn ?? "";
      case "d":
        return who.certSubject ?? "";
      case "A":
        return extra.access ?? "";
      case "t":
        return extra.topic ?? "";
      default:
        return "";
    }
  });
}
