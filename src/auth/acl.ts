/**
 * Access control rules from either format (hmq lines, NanoMQ `rules = [...]`), normalised and
 * evaluated the same way: top-down, the first rule whose subject, action and topic all match
 * decides; no match falls through to `auth.no_match`.
 *
 * Topics, as Mosquitto and EMQX do it: a rule's filter is matched against the topic of a PUBLISH,
 * against the filter of a SUBSCRIBE as written (its `+` and `#` are plain levels there, so rule
 * `#` grants SUBSCRIBE `#`, and rule `secret/#` does not touch SUBSCRIBE `#`), and against the
 * topic of every message delivered ("read", decided by the subscribe rules). So a client may
 * subscribe to `#` past `deny ... secret/#` and still never receives a `secret/` message.
 */

/** Who is asking. */
export interface Identity {
  clientId: string;
  username: string | undefined;
  /** Remote IP address, without port. */
  ip: string;
}

/** A subject test; several in one rule must all hold (`and`), or any of a list (`or`). */
export type Subject =
  | { kind: "clientid" | "username"; value: string }
  | { kind: "ip"; value: string }
  | { kind: "and" | "or"; of: Subject[] };

/** One normalised rule. */
export interface AclRule {
  allow: boolean;
  publish: boolean;
  subscribe: boolean;
  /** All must match; empty = everyone. */
  subjects: Subject[];
  /** Filters, split into levels, with `%c`/`%u`/`${clientid}`/`${username}` left in; empty = all. */
  topics: string[][];
  /** "acl.conf:5" or "auth.acl.rules.0", for logs. */
  source: string;
}

/**
 * publish: a PUBLISH (and a will) to a topic; subscribe: a SUBSCRIBE, with its filter; read: a
 * message about to be delivered, with its topic, decided by the subscribe rules.
 */
export type AclAction = "publish" | "subscribe" | "read";

/** The first rule that matches, or null. */
export function findRule(
  rules: readonly AclRule[],
  who: Identity,
  action: AclAction,
  topic: string,
): AclRule | null {
  const levels = topic.split("/");
  for (const r of rules) {
    if (action === "publish" ? !r.publish : !r.subscribe) continue;
    if (!r.subjects.every((s) => _subject(s, who))) continue;
    if (r.topics.length === 0) return r;
    for (const t of r.topics) {
      const f = _substitute(t, who);
      if (f !== null && _matches(f, levels)) return r;
    }
  }
  return null;
}

/**
 * What decides reads for `who`: the subscribe rules whose subjects match, with their placeholders
 * filled in. Identities with the same key get the same read answer for every topic.
 */
export function readClassKey(rules: readonly AclRule[], who: Identity): string {
  let key = "";
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!;
    if (!r.subscribe || !r.subjects.every((s) => _subject(s, who))) continue;
    key += `${i};`;
    for (const t of r.topics) {
      const f = _substitute(t, who);
      if (f !== t) key += f === null ? "\0;" : `${JSON.stringify(f)};`;
    }
  }
  return key;
}

function _subject(s: Subject, who: Identity): boolean {
  switch (s.kind) {
    case "clientid":
      return s.value === "*" || s.value === "#" || s.value === who.clientId;
    case "username":
      return s.value === "*" || s.value === "#" || s.value === who.username;
    case "ip":
      return ipMatches(s.value, who.ip);
    case "and":
      return s.of.every((x) => _subject(x, who));
    case "or":
      return s.of.some((x) => _subject(x, who));
  }
}

/** `rule` is an address, `*`, or an IPv4 CIDR block such as 192.168.1.0/24. */
export function ipMatches(rule: string, ip: string): boolean {
  if (rule === "*" || rule === ip) return true;
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(rule);
  const a = m === null ? null : _ipv4(m[1]!);
  const b = _ipv4(ip);
  if (a === null || b === null) return false;
  const bits = Number(m![2]);
  if (bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((a & mask) >>> 0) === ((b & mask) >>> 0);
}

function _ipv4(s: string): number | null {
  const p = s.split(".").map(Number);
  if (p.length !== 4 || p.some((x) => !(x >= 0 && x <= 255))) return null;
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

const PLACEHOLDER = /%c|%u|\$\{clientid\}|\$\{username\}/g;

/** The rule filter for `who`; null when a placeholder cannot be filled safely. */
function _substitute(levels: string[], who: Identity): string[] | null {
  let out: string[] | null = null;
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (!l.includes("%") && !l.includes("${")) continue;
    let bad = false;
    const v = l.replace(PLACEHOLDER, (ph) => {
      const s = ph === "%c" || ph === "${clientid}" ? who.clientId : who.username;
      // a name with a wildcard or a level separator would widen the rule
      if (s === undefined || s === "" || /[+#/]/.test(s)) bad = true;
      return s ?? "";
    });
    if (bad) return null;
    (out ??= [...levels])[i] = v;
  }
  return out ?? levels;
}

/**
 * The rule's filter matches `levels` (a topic, or a subscription filter read as a topic: its `+`
 * and `#` are matched only by a `+` or `#` of the rule).
 */
function _matches(rule: string[], levels: string[]): boolean {
  for (let i = 0;; i++) {
    const r = rule[i];
    const x = levels[i];
    if (r === "#") return true;
    if (r === undefined || x === undefined) return r === x;
    if (r !== "+" && r !== x) return false;
  }
}
