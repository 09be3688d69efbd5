/**
 * SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677) as MQTT 5 enhanced authentication methods:
 * the server's side of the exchange, CONNECT (client-first) -> AUTH (server-first) -> AUTH
 * (client-final) -> CONNACK or AUTH (server-final). The password list holds `$scram$` entries
 * (`broker passwd --scram`: both algorithms' keys, never the password) or plain passwords, whose
 * keys are derived once with a salt made at start. Channel binding is not offered ("n" or "y").
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import type { AuthStep } from "../broker/auth_port.ts";

/** The methods, by their MQTT Authentication Method names. */
export const SCRAM_METHODS = { "SCRAM-SHA-1": "sha1", "SCRAM-SHA-256": "sha256" } as const;
export type ScramMethod = keyof typeof SCRAM_METHODS;
type Hash = (typeof SCRAM_METHODS)[ScramMethod];

/** Iterations `broker passwd --scram` uses (RFC 7677 asks for at least 4096). */
export const SCRAM_ITERATIONS = 4096;

/** What the server keeps of a user for one algorithm. */
export interface ScramKeys {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** The keys of one algorithm for a password. */
export function scramKeys(hash: Hash, password: string, salt: Buffer, iterations: number): ScramKeys {
  const salted = pbkdf2Sync(password, salt, iterations, hash === "sha1" ? 20 : 32, hash);
  const clientKey = createHmac(hash, salted).update("Client Key").digest();
  return {
    salt,
    iterations,
    storedKey: createHash(hash).update(clientKey).digest(),
    serverKey: createHmac(hash, salted).update("Server Key").digest(),
  };
}

/** A password-list entry holding both algorithms' keys: `$scram$<i>$<salt>$<sha1 stored>,<server>$<sha256 ...>`. */
export function scramEntry(password: string): string {
  const salt = randomBytes(16);
  const b = (k: ScramKeys) => `${k.storedKey.toString("base64")},${k.serverKey.toString("base64")}`;
  const one = scramKeys("sha1", password, salt, SCRAM_ITERATIONS);
  const two = scramKeys("sha256", password, salt, SCRAM_ITERATIONS);
  return `$scram$${SCRAM_ITERATIONS}$${salt.toString("base64")}$${b(one)}$${b(two)}`;
}

/** The keys of one algorithm in a `$scram$` entry, null when it is not one. */
export function parseScramEntry(entry: string, hash: Hash): ScramKeys | null {
  const m = /^\$scram\$(\d+)\$([^$]+)\$([^$,]+),([^$,]+)\$([^$,]+),([^$,]+)$/.exec(entry);
  if (m === null) return null;
  const [stored, server] = hash === "sha1" ? [m[3]!, m[4]!] : [m[5]!, m[6]!];
  return {
    salt: Buffer.from(m[2]!, "base64"),
    iterations: Number(m[1]),
    storedKey: Buffer.from(stored, "base64"),
    serverKey: Buffer.from(server, "base64"),
  };
}

/** Whether `password` is the one a `$scram$` entry was made from (a CONNECT with a password). */
export function verifyScramEntry(entry: string, password: string): boolean {
  const k = parseScramEntry(entry, "sha256");
  if (k === null) return false;
  const got = scramKeys("sha256", password, k.salt, k.iterations).storedKey;
  return got.length === k.storedKey.length && timingSafeEqual(got, k.storedKey);
}

/** `=2C` and `=3D` back to `,` and `=` (RFC 5802 saslname); null for any other `=`. */
function _saslName(s: string): string | null {
  if (/=(?!2C|3D)/.test(s)) return null;
  return s.replaceAll("=2C", ",").replaceAll("=3D", "=");
}

/** One client's exchange. `keysOf` gives a user's keys, null for an unknown user. */
export class ScramExchange {
  private readonly hash: Hash;
  private expect:
    | { nonce: string; bare: string; serverFirst: string; user: string; keys: ScramKeys | null }
    | null = null;

  /** `serverNonce` is for tests that replay an RFC's example exchange. */
  constructor(
    method: ScramMethod,
    private readonly keysOf: (user: string, hash: Hash) => ScramKeys | null,
    private readonly serverNonce = () => randomBytes(18).toString("base64"),
  ) {
    this.hash = SCRAM_METHODS[method];
  }

  /** The client-first message (CONNECT's or a re-authentication's Authentication Data). */
  first(data: Buffer | undefined): AuthStep {
    const text = data?.toString("utf8") ?? "";
    const m = /^([ny]),(?:a=[^,]*)?,(n=([^,]*),r=([^,]+)(?:,.*)?)$/.exec(text);
    if (m === null) {
      return { kind: "fail", reason: "Authentication Data is not a SCRAM client-first message" };
    }
    const user = _saslName(m[3]!);
    if (user === null || user === "") return { kind: "fail", reason: "The SCRAM user name is not valid" };
    const keys = this.keysOf(user, this.hash);
    // an unknown user gets a salt like anyone's and fails at the proof: no telling who exists
    const salt = keys?.salt ?? createHmac("sha256", _FAKE_SALT_KEY).update(user).digest().subarray(0, 16);
    const nonce = m[4]! + this.serverNonce();
    const serverFirst = `r=${nonce},s=${salt.toString("base64")},i=${keys?.iterations ?? SCRAM_ITERATIONS}`;
    this.expect = { nonce, bare: m[2]!, serverFirst, user, keys };
    return { kind: "continue", data: Buffer.from(serverFirst) };
  }

  /** The client-final message. */
  final(data: Buffer | undefined): AuthStep {
    const e = this.expect;
    this.expect = null;
    if (e === null) return { kind: "fail", reason: "SCRAM client-final without client-first" };
    const text = data?.toString("utf8") ?? "";
    const m = /^(c=([^,]*),r=([^,]*)(?:,[^p][^,]*)*),p=([^,]+)$/.exec(text);
    if (m === null || m[3] !== e.nonce) {
      return { kind: "fail", reason: "Not a SCRAM client-final message for this exchange" };
    }
    const binding = Buffer.from(m[2]!, "base64").toString("utf8");
    if (binding !== "n,," && binding !== "y,,") {
      return { kind: "fail", reason: "SCRAM channel binding is not offered" };
    }
    if (e.keys === null) return { kind: "fail", reason: "Bad user name or password" };
    const authMessage = `${e.bare},${e.serverFirst},${m[1]!}`;
    const signature = createHmac(this.hash, e.keys.storedKey).update(authMessage).digest();
    const proof = Buffer.from(m[4]!, "base64");
    if (proof.length !== signature.length) return { kind: "fail", reason: "Bad user name or password" };
    for (let i = 0; i < proof.length; i++) proof[i]! ^= signature[i]!;
    const stored = createHash(this.hash).update(proof).digest();
    if (!timingSafeEqual(stored, e.keys.storedKey)) {
      return { kind: "fail", reason: "Bad user name or password" };
    }
    const verifier = createHmac(this.hash, e.keys.serverKey).update(authMessage).digest("base64");
    return { kind: "success", data: Buffer.from(`v=${verifier}`), username: e.user };
  }
}

const _FAKE_SALT_KEY = randomBytes(32);
