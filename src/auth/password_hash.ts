/**
 * Password hashes in the password list. Written and read: Mosquitto's PBKDF2-SHA512 format
 * (`$7$<iterations>$<salt>$<hash>`, so `mosquitto_passwd` files work unchanged) and scrypt
 * (`$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<hash>`), and SCRAM keys (`$scram$`, scram.ts: they
 * also let a client authenticate by SCRAM without sending the password). Read only: Mosquitto 1.x `$6$` (salted SHA-512).
 * Anything else is a plain-text password, as in NanoMQ's `nanomq_pwd.conf`.
 */
import { createHash, pbkdf2, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { scramEntry, verifyScramEntry } from "./scram.ts";

/** Iterations `broker passwd` uses for PBKDF2 (Mosquitto's own default is 101). */
export const PBKDF2_ITERATIONS = 10_000;

/** True when `stored` is a hash this module can check. */
export function isHashed(stored: string): boolean {
  return /^\$(7|6|scrypt|scram)\$/.test(stored);
}

/** A new hash of `password`: PBKDF2-SHA512 in Mosquitto's format, or scrypt. */
export async function hashPassword(
  password: string,
  algo: "pbkdf2" | "scrypt" | "scram" = "pbkdf2",
): Promise<string> {
  if (algo === "scram") return scramEntry(password);
  const salt = randomBytes(12);
  if (algo === "scrypt") {
    const hash = await _scrypt(password, salt, 64, 14, 8, 1);
    return `$scrypt$ln=14,r=8,p=1$${salt.toString("base64")}$${hash.toString("base64")}`;
  }
  const hash = await _pbkdf2(password, salt, PBKDF2_ITERATIONS);
  return `$7$${PBKDF2_ITERATIONS}$${salt.toString("base64")}$${hash.toString("base64")}`;
}

/** Checks `password` against a stored hash (off the event loop); false for a malformed hash. */
export async function verifyHash(stored: string, password: string): Promise<boolean> {
  const parts = stored.split("$");
  try {
    if (parts[1] === "scram") return verifyScramEntry(stored, password);
    if (parts[1] === "7" && parts.length === 5) {
      const expect = Buffer.from(parts[4]!, "base64");
      const it = Number(parts[2]);
      if (!Number.isInteger(it) || it < 1 || expect.length === 0) return false;
      return _same(await _pbkdf2(password, Buffer.from(parts[3]!, "base64"), it, expect.length), expect);
    }
    if (parts[1] === "6" && parts.length === 4) {
      const salt = Buffer.from(parts[2]!, "base64");
      const got = createHash("sha512").update(password).update(salt).digest();
      return _same(got, Buffer.from(parts[3]!, "base64"));
    }
    if (parts[1] === "scrypt" && parts.length === 5) {
      const m = /^ln=(\d+),r=(\d+),p=(\d+)$/.exec(parts[2]!);
      const expect = Buffer.from(parts[4]!, "base64");
      if (m === null || expect.length === 0) return false;
      const got = await _scrypt(
        password,
        Buffer.from(parts[3]!, "base64"),
        expect.length,
        +m[1]!,
        +m[2]!,
        +m[3]!,
      );
      return _same(got, expect);
    }
  } catch {
    return false; // parameters out of range
  }
  return false;
}

/** Compares two secrets in constant time (also when their lengths differ). */
export function sameSecret(a: string | Buffer, b: string | Buffer): boolean {
  const da = createHash("sha256").update(a).digest();
  const db = createHash("sha256").update(b).digest();
  return timingSafeEqual(da, db);
}

function _same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function _pbkdf2(password: string, salt: Buffer, iterations: number, len = 64): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    pbkdf2(password, salt, iterations, len, "sha512", (e, k) => (e ? reject(e) : resolve(k)))
  );
}

function _scrypt(
  password: string,
  salt: Buffer,
  len: number,
  ln: number,
  r: number,
  p: number,
): Promise<Buffer> {
  const N = 2 ** ln;
  return new Promise((resolve, reject) =>
    scrypt(
      password,
      salt,
      len,
      { N, r, p, maxmem: 256 * N * r + 1024 * 1024 },
      (e, k) => (e ? reject(e) : resolve(k)),
    )
  );
}
