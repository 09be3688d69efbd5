/**
 * The broker's AuthHooks from `auth { }`: anonymous access, the password list (plain or hashed)
 * and the ACL rules. A new instance is made on every reload, which also empties its cache.
 */
import { RC } from "../protocol/reason_code.ts";
import { type AclRule, findRule, readClassKey } from "./acl.ts";
import { HttpAuth, type HttpAuthDeps, type HttpAuthSettings } from "./http_auth.ts";
import { isHashed, sameSecret, verifyHash } from "./password_hash.ts";
import {
  parseScramEntry,
  SCRAM_ITERATIONS,
  SCRAM_METHODS,
  ScramExchange,
  type ScramKeys,
  scramKeys,
  type ScramMethod,
} from "./scram.ts";
import { randomBytes } from "node:crypto";
import type { AclVerdict, AuthHooks, Identity } from "../broker/auth_port.ts";

/** What {@link createAuth} needs. */
export interface AuthSettings {
  /** `auth.allow_anonymous` (default true): clients without a user name may connect. */
  allowAnonymous: boolean;
  /** `auth.password`: user name to plain password or hash. */
  passwords: Record<string, string>;
  /** hmq-format rules first, then NanoMQ's `auth.acl.rules`. */
  rules: AclRule[];
  /** `auth.no_match` (default allow). */
  noMatch: "allow" | "deny";
  /** `auth.deny_action` (default ignore). */
  denyAction: "ignore" | "disconnect";
  /** `auth.http_auth` (with `auth.cache`); default none. */
  http?: HttpAuthSettings | null;
}

/** True when the settings restrict anything, i.e. the broker needs hooks at all. */
export function authNeeded(s: AuthSettings): boolean {
  return !s.allowAnonymous || Object.keys(s.passwords).length > 0 || s.rules.length > 0 ||
    s.noMatch === "deny" || (s.http ?? null) !== null;
}

/**
 * Creates the hooks. Authentication: a user in the password list is checked against it; anyone
 * else goes to `auth_req` when it is configured, else anonymous access decides. Then `super_req`,
 * when configured, may make the client a superuser, whom access control lets do anything. Access
 * control: the rules decide first; what they do not decide goes to `acl_req` (publish and
 * subscribe) when configured, else to `auth.no_match`.
 */
export function createAuth(s: AuthSettings, httpDeps?: HttpAuthDeps): AuthHooks {
  const users = new Map(Object.entries(s.passwords));
  /** A user whose hashed password was verified: the password it was verified with, to skip the slow hash next time. */
  const verified = new Map<string, Buffer>();
  const noMatch: AclVerdict = { allow: s.noMatch === "allow", rule: "" };
  const settings = s.http ?? null;
  if (settings !== null && httpDeps === undefined) throw new TypeError("auth.http_auth needs an HTTP client");
  const http = settings === null ? null : new HttpAuth(settings, httpDeps!);
  const askAuth = settings?.auth != null;
  const askSuper = settings?.superuser != null;
  const askAcl = settings?.acl != null;
  /** Keys of plain-text passwords, made once per user and algorithm with a salt of this start. */
  const plainKeys = new Map<string, ScramKeys>();
  const plainSalt = randomBytes(16);
  const scramKeysOf = (user: string, hash: "sha1" | "sha256"): ScramKeys | null => {
    const stored = users.get(user);
    if (stored === undefined) return null;
    if (isHashed(stored)) return parseScramEntry(stored, hash); // other hashes cannot do SCRAM
    const key = `${hash}:${user}`;
    let k = plainKeys.get(key);
    if (k === undefined) plainKeys.set(key, k = scramKeys(hash, stored, plainSalt, SCRAM_ITERATIONS));
    return k;
  };
  const local = (who: Identity, password: Buffer | undefined): number | Promise<number> => {
    if (who.username === undefined) return s.allowAnonymous ? 0 : RC.NOT_AUTHORIZED;
    const stored = users.get(who.username);
    if (stored === undefined) return users.size === 0 && s.allowAnonymous ? 0 : RC.BAD_USER_NAME_OR_PASSWORD;
    const given = password ?? Buffer.alloc(0);
    if (!isHashed(stored)) return sameSecret(stored, given) ? 0 : RC.BAD_USER_NAME_OR_PASSWORD;
    const known = verified.get(who.username);
    if (known !== undefined && sameSecret(known, given)) return 0;
    return verifyHash(stored, given.toString("utf8")).then((ok) => {
      if (!ok) return RC.BAD_USER_NAME_OR_PASSWORD;
      verified.set(who.username!, Buffer.from(given));
      return 0;
    });
  };
  return {
    denyAction: s.denyAction,
    offered: Object.keys(SCRAM_METHODS),
    enhanced: (method) => {
      if (!(method in SCRAM_METHODS)) return null;
      const x = new ScramExchange(method as ScramMethod, scramKeysOf);
      return { first: (d) => x.first(d), next: (d) => x.final(d) };
    },
    authenticate(who, password, byCertificate): number | Promise<number> {
      const listed = who.username !== undefined && users.has(who.username);
      const code = byCertificate
        ? 0
        : askAuth && !listed
        ? http!.authenticate(who, password).then((ok) => (ok ? 0 : RC.BAD_USER_NAME_OR_PASSWORD))
        : local(who, password);
      return askSuper ? _super(http!, who, password, code) : code;
    },
    stillAuthenticated(who, byCertificate) {
      if (byCertificate) return true;
      if (who.username !== undefined && users.has(who.username)) return true;
      if (askAuth) return true; // the server is not asked again
      if (who.username === undefined) return s.allowAnonymous;
      return users.size === 0 && s.allowAnonymous;
    },
    authorize(who, action, topic) {
      if (who.superuser === true) return SUPERUSER;
      const r = findRule(s.rules, who, action, topic);
      if (r !== null) return { allow: r.allow, rule: r.source };
      return askAcl ? http!.authorize(who, action, topic) : noMatch;
    },
    recheck(who, filter) {
      if (who.superuser === true) return SUPERUSER;
      const r = findRule(s.rules, who, "subscribe", filter);
      if (r !== null) return { allow: r.allow, rule: r.source };
      return askAcl ? null : noMatch;
    },
    authorizeRead(who, topic) {
      if (who.superuser === true) return SUPERUSER;
      const r = findRule(s.rules, who, "read", topic);
      if (r !== null) return { allow: r.allow, rule: r.source };
      // acl_req granted (or refused) the subscription; it is not asked for every message
      return askAcl ? { allow: true, rule: "acl_req (the subscription)" } : noMatch;
    },
    readClass: _readClasses(s.rules),
  };
}

/** Read classes kept for reuse; past this many the numbering goes on with an empty table. */
const READ_CLASSES = 10_000;

function _readClasses(rules: readonly AclRule[]): (who: Identity) => number {
  const classes = new Map<string, number>();
  let next = 0;
  return (who) => {
    const key = who.superuser === true ? "superuser" : readClassKey(rules, who);
    let n = classes.get(key);
    if (n === undefined) {
      // a number is never given to a second key, also after the table has been emptied
      if (classes.size >= READ_CLASSES) classes.clear();
      classes.set(key, n = next++);
    }
    return n;
  };
}

const SUPERUSER: AclVerdict = { allow: true, rule: "superuser (super_req)" };

/** After a successful authentication, super_req (when configured) may mark `who` as a superuser. */
async function _super(
  http: HttpAuth,
  who: Identity,
  password: Buffer | undefined,
  code: number | Promise<number>,
): Promise<number> {
  const c = await code;
  if (c === 0 && (await http.isSuperuser(who, password))) who.superuser = true;
  return c;
}
