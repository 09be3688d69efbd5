/**
 * The broker's AuthHooks from `auth { }`: anonymous access, the password list (plain or hashed)
 * and the ACL rules. A new instance is made on every reload, which also empties its cache.
 */
import { RC } from "../protocol/reason_code.ts";
import { type AclRule, findRule } from "./acl.ts";
import { isHashed, sameSecret, verifyHash } from "./password_hash.ts";
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
}

/** True when the settings restrict anything, i.e. the broker needs hooks at all. */
export function authNeeded(s: AuthSettings): boolean {
  return !s.allowAnonymous || Object.keys(s.passwords).length > 0 || s.rules.length > 0 ||
    s.noMatch === "deny";
}

/** Creates the hooks. */
export function createAuth(s: AuthSettings): AuthHooks {
  const users = new Map(Object.entries(s.passwords));
  /** A user whose hashed password was verified: the password it was verified with, to skip the slow hash next time. */
  const verified = new Map<string, Buffer>();
  const noMatch: AclVerdict = { allow: s.noMatch === "allow", rule: "" };
  return {
    denyAction: s.denyAction,
    authenticate(
      who: Identity,
      password: Buffer | undefined,
      byCertificate: boolean,
    ): number | Promise<number> {
      if (byCertificate) return 0;
      if (who.username === undefined) return s.allowAnonymous ? 0 : RC.NOT_AUTHORIZED;
      const stored = users.get(who.username);
      if (stored === undefined) {
        return users.size === 0 && s.allowAnonymous ? 0 : RC.BAD_USER_NAME_OR_PASSWORD;
      }
      const given = password ?? Buffer.alloc(0);
      if (!isHashed(stored)) return sameSecret(stored, given) ? 0 : RC.BAD_USER_NAME_OR_PASSWORD;
      const known = verified.get(who.username);
      if (known !== undefined && sameSecret(known, given)) return 0;
      return verifyHash(stored, given.toString("utf8")).then((ok) => {
        if (!ok) return RC.BAD_USER_NAME_OR_PASSWORD;
        verified.set(who.username!, Buffer.from(given));
        return 0;
      });
    },
    stillAuthenticated(who, byCertificate) {
      if (byCertificate) return true;
      if (who.username === undefined) return s.allowAnonymous;
      return users.has(who.username) || (users.size === 0 && s.allowAnonymous);
    },
    authorize(who, action, topic): AclVerdict {
      const r = findRule(s.rules, who, action, topic);
      return r === null ? noMatch : { allow: r.allow, rule: r.source };
    },
  };
}
