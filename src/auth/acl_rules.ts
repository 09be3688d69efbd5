/** Reading ACL rules: hmq's line format and NanoMQ's `rules = [...]`, into {@link AclRule}s. */
import type { AclRule, Subject } from "./acl.ts";

/** Who a NanoMQ rule (or one of its `and` / `or` parts) is about; null where not given. */
export interface NanomqSubjectSpec {
  username: string | null;
  clientid: string | null;
  ipaddr: string | null;
  ipaddrs: readonly string[];
}

/** One of NanoMQ's `auth.acl.rules`, as the configuration schema has validated it. */
export interface NanomqRuleSpec extends NanomqSubjectSpec {
  permit: "allow" | "deny";
  action: "publish" | "subscribe" | "pubsub";
  topics: readonly string[];
  and: readonly NanomqSubjectSpec[];
  or: readonly NanomqSubjectSpec[];
}

/** A rule that cannot be read: where (file and line, or the key path of a NanoMQ rule), and why. */
export class AclRuleError extends Error {
  constructor(readonly file: string, readonly line: number, readonly key: string, readonly detail: string) {
    super(`${file}${line > 0 ? `:${line}` : ""}: ${key}: ${detail}`);
    this.name = "AclRuleError";
  }
}

/**
 * hmq's action field. The hmq README numbers it 1 = publish, 2 = subscribe, 3 = both (later hmq code
 * swapped 1 and 2; we follow the README); the words are unambiguous.
 */
const HMQ_ACTIONS: Record<string, [boolean, boolean]> = {
  "1": [true, false],
  "2": [false, true],
  "3": [true, true],
  pub: [true, false],
  sub: [false, true],
  pubsub: [true, true],
};

/**
 * Parses an hmq ACL file: `allow|deny clientid|username|ip VALUE|* 1|2|3|pub|sub|pubsub TOPIC[,TOPIC]`.
 * Lines starting with `#`, `;`, `//` or `*` and blank lines are skipped (unlike hmq, a blank line
 * does not end the file). Throws AclRuleError naming the file and line.
 */
export function parseHmqAcl(text: string, file: string): AclRule[] {
  const rules: AclRule[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || /^(#|;|\/\/|\*)/.test(line)) return;
    const f = line.split(/\s+/);
    const fail = (msg: string): never => {
      throw new AclRuleError(file, i + 1, "acl", msg);
    };
    if (f.length !== 5) {
      fail(
        `expected 5 fields "allow|deny clientid|username|ip VALUE 1|2|3 TOPIC[,TOPIC]", found ${f.length}`,
      );
    }
    const [permit, kind, value, action, topics] = f as [string, string, string, string, string];
    if (permit !== "allow" && permit !== "deny") fail(`"${permit}" is not allow or deny`);
    if (kind !== "clientid" && kind !== "username" && kind !== "ip") {
      fail(`"${kind}" is not clientid, username or ip`);
    }
    const act = HMQ_ACTIONS[action.toLowerCase()] ??
      fail(`"${action}" is not 1 (publish), 2 (subscribe), 3 (both), pub, sub or pubsub`);
    const subjects: Subject[] = value === "*" ? [] : [{ kind: kind as "clientid", value }];
    rules.push({
      allow: permit === "allow",
      publish: act[0],
      subscribe: act[1],
      subjects,
      topics: _topics(topics.split(",").filter((t) => t !== ""), (m) => fail(m)),
      source: `${file}:${i + 1}`,
    });
  });
  return rules;
}

/** Converts NanoMQ's `auth.acl.rules` (already validated by the schema). */
export function nanomqAclRules(rules: readonly NanomqRuleSpec[], where = "auth.acl.rules"): AclRule[] {
  return rules.map((r, i) => {
    const source = `${where}.${i}`;
    const subjects: Subject[] = _subjects(r);
    if (r.and.length > 0) {
      subjects.push({ kind: "and", of: r.and.map((s) => ({ kind: "and", of: _subjects(s) })) });
    }
    if (r.or.length > 0) {
      subjects.push({ kind: "or", of: r.or.map((s) => ({ kind: "and", of: _subjects(s) })) });
    }
    return {
      allow: r.permit === "allow",
      publish: r.action !== "subscribe",
      subscribe: r.action !== "publish",
      subjects,
      topics: _topics(r.topics, (m) => {
        throw new AclRuleError(source, 0, `${source}.topics`, m);
      }),
      source,
    };
  });
}

function _subjects(s: NanomqSubjectSpec): Subject[] {
  const out: Subject[] = [];
  if (s.username !== null) out.push({ kind: "username", value: s.username });
  if (s.clientid !== null) out.push({ kind: "clientid", value: s.clientid });
  if (s.ipaddr !== null) out.push({ kind: "ip", value: s.ipaddr });
  if (s.ipaddrs.length > 0) out.push({ kind: "or", of: s.ipaddrs.map((value) => ({ kind: "ip", value })) });
  return out;
}

function _topics(topics: readonly string[], fail: (msg: string) => never): string[][] {
  return topics.map((t) => {
    const levels = t.split("/");
    const bad = levels.findIndex((l, i) =>
      (l.includes("#") && (l !== "#" || i !== levels.length - 1)) || (l.includes("+") && l !== "+")
    );
    if (t === "" || bad >= 0) fail(`"${t}" is not a valid topic filter`);
    return levels;
  });
}
