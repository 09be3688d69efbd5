/**
 * Who may use the HTTP API (`http_server.auth_type`): Basic with `username`/`password`, or a JWT
 * signed with the key in `jwt.public.keyfile` — an RSA public key (RS256) or, when the file holds
 * no PEM key, a shared secret (HS256). The token's `iss` must be the key file's base name, as in
 * NanoMQ; `exp` and `nbf` are honoured. The algorithm comes from the key, never from the token
 * (no "none", no RS/HS confusion).
 */
import {
  createHash,
  createHmac,
  createPublicKey,
  type KeyObject,
  timingSafeEqual,
  verify,
} from "node:crypto";

/** NanoMQ's result codes for a refused request. */
export const API_CODE = {
  BAD_CREDENTIALS: 103,
  NO_CREDENTIALS: 104,
  TOKEN_EXPIRED: 116,
} as const;

/** How requests are authenticated. */
export type ApiAuth =
  | { kind: "none" }
  | { kind: "basic"; username: string; password: string }
  | { kind: "jwt"; key: JwtKey; issuer: string };

/** The key a JWT is checked with. */
export type JwtKey = { alg: "RS256"; key: KeyObject } | { alg: "HS256"; secret: Buffer };

/** The key in a key file's text; throws (with the reason) when it is a PEM that is not an RSA public key. */
export function jwtKey(text: string): JwtKey {
  if (!text.includes("-----BEGIN")) {
    const secret = Buffer.from(text.trim());
    if (secret.length < 32) throw new Error("an HS256 secret must be at least 32 bytes");
    return { alg: "HS256", secret };
  }
  const key = createPublicKey(text);
  if (key.asymmetricKeyType !== "rsa") {
    throw new Error(`the key is ${key.asymmetricKeyType ?? "unknown"}; RS256 needs an RSA public key`);
  }
  return { alg: "RS256", key };
}

/** 0 when the request may go on, else the result code to refuse it with (HTTP 401). */
export function checkAuth(auth: ApiAuth, authorization: string | undefined, nowMs: number): number {
  if (auth.kind === "none") return 0;
  if (authorization === undefined || authorization === "") return API_CODE.NO_CREDENTIALS;
  const space = authorization.indexOf(" ");
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1).trim();
  if (auth.kind === "basic") {
    if (scheme !== "basic") return API_CODE.NO_CREDENTIALS;
    const plain = Buffer.from(value, "base64").toString("utf8");
    const colon = plain.indexOf(":");
    if (colon < 0) return API_CODE.BAD_CREDENTIALS;
    const ok = _same(plain.slice(0, colon), auth.username) & _same(plain.slice(colon + 1), auth.password);
    return ok === 1 ? 0 : API_CODE.BAD_CREDENTIALS;
  }
  if (scheme !== "bearer") return API_CODE.NO_CREDENTIALS;
  return checkJwt(value, auth.key, auth.issuer, nowMs);
}

/** 1 when equal; compares digests so that neither the length nor the content leaks through timing. */
function _same(a: string, b: string): number {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db) ? 1 : 0;
}

/** 0 for a valid token, else {@link API_CODE}.BAD_CREDENTIALS or TOKEN_EXPIRED. */
export function checkJwt(token: string, key: JwtKey, issuer: string, nowMs: number): number {
  const parts = token.split(".");
  if (parts.length !== 3) return API_CODE.BAD_CREDENTIALS;
  const [head, body, sig] = parts as [string, string, string];
  const header = _json(head);
  if (header === null || header.alg !== key.alg) return API_CODE.BAD_CREDENTIALS;
  const signed = Buffer.from(`${head}.${body}`);
  const signature = Buffer.from(sig, "base64url");
  const valid = key.alg === "HS256"
    ? _equalBytes(createHmac("sha256", key.secret).update(signed).digest(), signature)
    : verify("RSA-SHA256", signed, key.key, signature);
  if (!valid) return API_CODE.BAD_CREDENTIALS;
  const claims = _json(body);
  if (claims === null || claims.iss !== issuer) return API_CODE.BAD_CREDENTIALS;
  const now = nowMs / 1000;
  if (typeof claims.nbf === "number" && now < claims.nbf) return API_CODE.BAD_CREDENTIALS;
  if (typeof claims.exp === "number" && now >= claims.exp) return API_CODE.TOKEN_EXPIRED;
  return 0;
}

function _equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function _json(part: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof v === "object" && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
