/**
 * The `http_server { }` section: whether the HTTP API runs, where, and who may use it. An API
 * without credentials is a remote control of the broker for anyone on the network, so it does not
 * start unless the file says `auth_type = no_auth` outright.
 */
import { type ApiAuth, jwtKey } from "../admin/api_auth.ts";
import type { Config } from "../config/config.ts";
import { ConfigError } from "../config/config_error.ts";
import type { Runtime } from "../runtime/runtime.ts";

/** Where the API listens and how it authenticates. */
export interface ApiSettings {
  host: string;
  port: number;
  limitConn: number;
  auth: ApiAuth;
}

/** Largest request body the API reads (a publish_batch of many messages fits). */
export const API_MAX_BODY = 4 * 1024 * 1024;

/** The API's settings, null when there is no `http_server` section or it is not enabled. */
export async function apiSettings(rt: Runtime, cfg: Config, source: string): Promise<ApiSettings | null> {
  const h = cfg.http_server;
  if (h === null || !h.enable) return null;
  return { host: h.ip_addr, port: h.port, limitConn: h.limit_conn, auth: await _auth(rt, h, source) };
}

async function _auth(rt: Runtime, h: NonNullable<Config["http_server"]>, source: string): Promise<ApiAuth> {
  if (h.auth_type === "no_auth") return { kind: "none" };
  if (h.auth_type === "basic") {
    if (h.username === "" || h.password === "") {
      throw new ConfigError(
        source,
        0,
        h.username === "" ? "http_server.username" : "http_server.password",
        "the HTTP API needs a user name and a password for basic authentication; set both, " +
          'or auth_type = "no_auth" to run it without any (anyone who reaches the port controls the broker)',
      );
    }
    return { kind: "basic", username: h.username, password: h.password };
  }
  const file = h.jwt.public.keyfile;
  if (file === undefined || file === null || file === "") {
    throw new ConfigError(
      source,
      0,
      "http_server.jwt.public.keyfile",
      'auth_type = "jwt" needs the key tokens are checked with: an RSA public key (PEM, RS256) or a file holding an HS256 secret',
    );
  }
  let text: string;
  try {
    text = await rt.readTextFile(file);
  } catch (e) {
    throw new ConfigError(
      source,
      0,
      "http_server.jwt.public.keyfile",
      `cannot read ${file}: ${(e as Error).message}`,
    );
  }
  try {
    return { kind: "jwt", key: jwtKey(text), issuer: file.slice(file.lastIndexOf("/") + 1) };
  } catch (e) {
    throw new ConfigError(source, 0, "http_server.jwt.public.keyfile", `${file}: ${(e as Error).message}`);
  }
}

/** The configuration with every secret replaced by "******" (GET /api/v4/configuration). */
export const SECRET_MASK = "******";

/** `v` with every password, secret and passphrase shown as {@link SECRET_MASK}. */
export function maskSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecrets);
  if (typeof v !== "object" || v === null) return v;
  return Object.fromEntries(
    Object.entries(v).map((
      [k, x],
    ) => [k, /password|secret|passphrase/i.test(k) && x !== null ? SECRET_MASK : maskSecrets(x)]),
  );
}
