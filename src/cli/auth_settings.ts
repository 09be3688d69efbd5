/**
 * `auth { }` as the broker's auth hooks: the password list, the ACL rules of both formats (the
 * hmq file read), HTTP authentication with its TLS files read, and the HTTP client for it.
 */
import { AclRuleError, nanomqAclRules, parseHmqAcl } from "../auth/acl_rules.ts";
import { authNeeded, type AuthSettings, createAuth } from "../auth/create_auth.ts";
import type { HttpAuthSettings, HttpRequestSpec, HttpSend } from "../auth/http_auth.ts";
import type { AuthHooks } from "../broker/auth_port.ts";
import type { Logger } from "../broker/deps.ts";
import type { Config } from "../config/config.ts";
import { ConfigError } from "../config/config_error.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { readClientTls, readConfigFile } from "./read_config_file.ts";

type HttpAuthConfig = NonNullable<Config["auth"]["http_auth"]>;
type HttpReqConfig = NonNullable<HttpAuthConfig["auth_req"]>;

/** Reads `auth { }`; a bad ACL line or an unreadable file is a ConfigError. */
export async function authSettings(rt: Runtime, cfg: Config, source: string): Promise<AuthSettings> {
  const a = cfg.auth;
  const text = a.acl_file === null ? null : await readConfigFile(rt, a.acl_file, source, "auth.acl_file");
  const http = a.http_auth === null ? null : await _http(rt, a.http_auth, cfg.auth.cache, source);
  try {
    const rules = text === null ? [] : parseHmqAcl(text, a.acl_file!);
    return {
      allowAnonymous: a.allow_anonymous,
      passwords: a.password,
      rules: [...rules, ...nanomqAclRules(a.acl.rules)],
      noMatch: a.no_match,
      denyAction: a.deny_action,
      http,
    };
  } catch (e) {
    if (e instanceof AclRuleError) throw new ConfigError(e.file, e.line, e.key, e.detail);
    throw e;
  }
}

/**
 * The hooks for `s`, or null when nothing is restricted. HTTP authentication sends through
 * `http(pool_size)`, which the caller keeps across reloads (each client holds a connection pool).
 */
export function authHooks(
  rt: Runtime,
  s: AuthSettings,
  log: Logger,
  http: (poolSize: number) => HttpSend,
): AuthHooks | null {
  if (!authNeeded(s)) return null;
  if (s.http == null) return createAuth(s);
  return createAuth(s, { send: http(s.http.poolSize), now: rt.now, warn: (m) => log.warn(m) });
}

/** HTTP clients by pool size, made when first asked for: a reload keeps its connections. */
export function httpPools(rt: Runtime): (poolSize: number) => HttpSend {
  const pools = new Map<number, HttpSend>();
  return (n) => {
    let send = pools.get(n);
    if (send === undefined) pools.set(n, send = rt.httpClient(n));
    return send;
  };
}

async function _http(
  rt: Runtime,
  h: HttpAuthConfig,
  cache: Config["auth"]["cache"],
  source: string,
): Promise<HttpAuthSettings> {
  const req = (r: HttpReqConfig | null, name: string) =>
    r === null || r.url === "" ? null : _request(rt, r, `auth.http_auth.${name}`, source);
  const s: HttpAuthSettings = {
    auth: await req(h.auth_req, "auth_req"),
    superuser: await req(h.super_req, "super_req"),
    acl: await req(h.acl_req, "acl_req"),
    timeoutMs: h.timeout,
    connectTimeoutMs: h.connect_timeout,
    poolSize: h.pool_size,
    cacheTtlMs: cache.ttl,
    cacheSize: Math.max(1, cache.max_size),
  };
  if (s.auth === null && s.acl === null) {
    // a section that asks nobody would look like protection and let everyone in
    throw new ConfigError(
      source,
      0,
      "auth.http_auth",
      "set auth_req.url (and acl_req.url for access control)",
    );
  }
  return s;
}

async function _request(
  rt: Runtime,
  r: HttpReqConfig,
  path: string,
  source: string,
): Promise<HttpRequestSpec> {
  const url = r.url.trim();
  if (!/^https?:\/\/[^/]/.test(url)) {
    throw new ConfigError(source, 0, `${path}.url`, `"${url}" is not an http:// or https:// URL`);
  }
  const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const spec: HttpRequestSpec = { url, method: r.method, headers, params: r.params };
  if (url.startsWith("https:")) spec.tls = await readClientTls(rt, r.ssl, `${path}.ssl`, source);
  return spec;
}
