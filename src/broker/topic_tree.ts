import type { Session, Subscription } from "./state.ts";
/**
 * Subscription trie. `match(topic)` walks it once per distinct topic and caches the result, grouped
 * by session, until the next subscribe or unsubscribe.
 */

interface Node {
  children: Map<string, Node>;
  subs: Subscription[];
  groups: Map<string, SharedGroup> | null;
}

/** The members of one `$share/{group}/{filter}`; a message goes to one of them. */
export interface SharedGroup {
  name: string;
  /** `$share/{name}/{filter}`, as another worker knows the group (peering.ts). */
  key: string;
  subs: Subscription[];
  /** Round-robin cursor. */
  next: number;
}

/** Everything one session receives for a topic: overlapping subscriptions merged [MQTT-3.3.4-2]. */
export interface Target {
  session: Session;
  /** Highest QoS of the matching subscriptions. */
  qos: number;
  subIds: number[] | null;
  /** Retain As Published on any matching subscription. */
  rap: boolean;
  /** True when some matching subscription has No Local. */
  noLocal: boolean;
  subs: Subscription[];
}

/** Result of a match: per-session targets and the shared groups to pick one member from. */
export interface MatchResult {
  targets: Target[];
  groups: SharedGroup[];
}

const CACHE_LIMIT = 10_000;

function _node(): Node {
  return { children: new Map(), subs: [], groups: null };
}

/** Creates an empty subscription tree. */
export function createTopicTree(): TopicTree {
  return new TopicTree();
}

/** Subscription trie with a per-topic match cache. */
export class TopicTree {
  private root = _node();
  private cache = new Map<string, MatchResult>();
  /** Number of subscriptions in the tree. */
  count = 0;
  /** Told of every subscription added and removed (a multi-core broker's interest in peering.ts). */
  observer: ((sub: Subscription, added: boolean) => void) | null = null;

  /** Adds `sub` under its filter (and share group). */
  add(sub: Subscription): void {
    let node = this.root;
    for (const level of sub.filter.split("/")) {
      let child = node.children.get(level);
      if (child === undefined) node.children.set(level, child = _node());
      node = child;
    }
    if (sub.group === null) node.subs.push(sub);
    else {
      node.groups ??= new Map();
      let g = node.groups.get(sub.group);
      if (g === undefined) {
        node.groups.set(
          sub.group,
          g = { name: sub.group, key: `$share/${sub.group}/${sub.filter}`, subs: [], next: 0 },
        );
      }
      g.subs.push(sub);
    }
    this.count++;
    this.cache.clear();
    this.observer?.(sub, true);
  }

  /** Removes `sub`; prunes empty branches. */
  remove(sub: Subscription): void {
    const path: Node[] = [this.root];
    const levels = sub.filter.split("/");
    for (const level of levels) {
      const child = path[path.length - 1]!.children.get(level);
      if (child === undefined) return;
      path.push(child);
    }
    const node = path[path.length - 1]!;
    let list = node.subs;
    const g = sub.group === null ? undefined : node.groups?.get(sub.group);
    if (g !== undefined) list = g.subs;
    const i = list.indexOf(sub);
    if (i < 0) return;
    list.splice(i, 1);
    if (g !== undefined && g.subs.length === 0) node.groups!.delete(g.name);
    this.count--;
    this.cache.clear();
    this.observer?.(sub, false);
    for (let d = levels.length; d > 0; d--) {
      const n = path[d]!;
      if (n.subs.length > 0 || n.children.size > 0 || (n.groups !== null && n.groups.size > 0)) break;
      path[d - 1]!.children.delete(levels[d - 1]!);
    }
  }

  /** A subscription in the tree has new options (QoS, No Local, ...): matches are made again. */
  changed(): void {
    this.cache.clear();
  }

  /** The share group `name` of exactly `filter`, undefined when it has no members. */
  group(filter: string, name: string): SharedGroup | undefined {
    let node: Node | undefined = this.root;
    for (const level of filter.split("/")) {
      node = node.children.get(level);
      if (node === undefined) return undefined;
    }
    return node.groups?.get(name);
  }

  /** Subscriptions matching topic name `topic`, merged per session. */
  match(topic: string): MatchResult {
    const hit = this.cache.get(topic);
    if (hit !== undefined) return hit;
    const subs: Subscription[] = [];
    const groups: SharedGroup[] = [];
    const levels = topic.split("/");
    _walk(this.root, levels, 0, subs, groups, topic.charCodeAt(0) === 0x24);
    const result = { targets: mergeTargets(subs), groups };
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(topic, result);
    return result;
  }
}

function _collect(node: Node, subs: Subscription[], groups: SharedGroup[]): void {
  for (const s of node.subs) subs.push(s);
  if (node.groups !== null) { for (const g of node.groups.values()) groups.push(g); }
}

function _walk(
  node: Node,
  levels: string[],
  i: number,
  subs: Subscription[],
  groups: SharedGroup[],
  dollar: boolean,
): void {
  const wild = !(dollar && i === 0); // [MQTT-4.7.2-1]
  const hash = wild ? node.children.get("#") : undefined;
  if (hash !== undefined) _collect(hash, subs, groups);
  if (i === levels.length) {
    _collect(node, subs, groups);
    return;
  }
  const exact = node.children.get(levels[i]!);
  if (exact !== undefined) _walk(exact, levels, i + 1, subs, groups, dollar);
  const plus = wild ? node.children.get("+") : undefined;
  if (plus !== undefined) _walk(plus, levels, i + 1, subs, groups, dollar);
}

/** Merges overlapping subscriptions of one session into one target. */
export function mergeTargets(subs: readonly Subscription[]): Target[] {
  const bySession = new Map<Session, Target>();
  const out: Target[] = [];
  for (const s of subs) {
    let t = bySession.get(s.session);
    if (t === undefined) {
      t = { session: s.session, qos: s.qos, subIds: null, rap: s.rap, noLocal: s.noLocal, subs: [s] };
      bySession.set(s.session, t);
      out.push(t);
    } else {
      t.qos = Math.max(t.qos, s.qos);
      t.rap ||= s.rap;
      t.noLocal ||= s.noLocal;
      t.subs.push(s);
    }
    if (s.subIds !== null) (t.subIds ??= []).push(...s.subIds);
  }
  return out;
}
