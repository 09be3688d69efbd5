import type { Message } from "./state.ts";
/** Retained messages in a trie of topic levels, so a wildcard subscribe visits only what matches. */

interface Node {
  /** Null while it has none: most nodes are leaves, and 100,000 empty Maps cost ~20 MB. */
  children: Map<string, Node> | null;
  msg: Message | null;
}

function _node(): Node {
  return { children: null, msg: null };
}

/** Creates an empty retained-message store; `onExpired(topic)` hears of each message that expired in it. */
export function createRetainedStore(onExpired: (topic: string) => void = () => {}): RetainedStore {
  return new RetainedStore(onExpired);
}

/** Retained messages keyed by topic. */
export class RetainedStore {
  private root = _node();
  /** Number of retained messages. */
  count = 0;
  /** Their topics' and payloads' bytes. */
  bytes = 0;

  constructor(private readonly onExpired: (topic: string) => void) {}

  /**
   * Stores `msg` as the retained message of its topic, replacing the previous one [MQTT-3.3.1-5],
   * unless that would exceed `maxCount` messages or `maxBytes`: then returns the limit it would
   * exceed and stores nothing. A replacement that does not grow the store is always taken.
   */
  set(
    msg: Message,
    maxCount = Infinity,
    maxBytes = Infinity,
  ): "max_retained_messages" | "max_retained_bytes" | null {
    const had = this._find(msg.topic);
    const size = _size(msg);
    const grow = size - (had === null ? 0 : _size(had));
    if (had === null && this.count >= maxCount) return "max_retained_messages";
    if (grow > 0 && this.bytes + grow > maxBytes) return "max_retained_bytes";
    let node = this.root;
    for (const level of msg.topic.split("/")) {
      let child = node.children?.get(level);
      if (child === undefined) (node.children ??= new Map()).set(level, child = _node());
      node = child;
    }
    if (node.msg === null) this.count++;
    node.msg = msg;
    this.bytes += grow;
    return null;
  }

  private _find(topic: string): Message | null {
    let node: Node | undefined = this.root;
    let from = 0;
    for (;;) {
      const at = topic.indexOf("/", from);
      node = node.children?.get(at < 0 ? topic.slice(from) : topic.slice(from, at));
      if (node === undefined) return null;
      if (at < 0) return node.msg;
      from = at + 1;
    }
  }

  /** Removes the retained message of `topic` [MQTT-3.3.1-6]. */
  delete(topic: string): void {
    const levels = topic.split("/");
    const path: Node[] = [this.root];
    for (const level of levels) {
      const child = path[path.length - 1]!.children?.get(level);
      if (child === undefined) return;
      path.push(child);
    }
    const node = path[path.length - 1]!;
    if (node.msg === null) return;
    this.bytes -= _size(node.msg);
    node.msg = null;
    this.count--;
    for (let d = levels.length; d > 0; d--) {
      const n = path[d]!;
      if (n.msg !== null || (n.children !== null && n.children.size > 0)) break;
      const parent = path[d - 1]!;
      parent.children!.delete(levels[d - 1]!);
      if (parent.children!.size === 0) parent.children = null;
    }
  }

  /** Retained messages matching `filter`, dropping those expired at `now` (ms). */
  match(filter: string, now: number): Message[] {
    const out: Message[] = [];
    _walk(this.root, filter.split("/"), 0, out);
    const live = out.filter((m) => m.expiresAt === 0 || m.expiresAt > now);
    if (live.length !== out.length) {
      for (const m of out) {
        if (m.expiresAt === 0 || m.expiresAt > now) continue;
        this.delete(m.topic);
        this.onExpired(m.topic);
      }
    }
    return live;
  }
}

/** What a retained message counts against max_retained_bytes. */
const _size = (m: Message): number => m.topicBytes + m.payload.length;

function _all(node: Node, out: Message[], skipDollar: boolean): void {
  if (node.msg !== null) out.push(node.msg);
  if (node.children === null) return;
  for (const [level, child] of node.children) {
    if (skipDollar && level.charCodeAt(0) === 0x24) continue;
    _all(child, out, false);
  }
}

function _walk(node: Node, levels: string[], i: number, out: Message[]): void {
  if (i === levels.length) {
    if (node.msg !== null) out.push(node.msg);
    return;
  }
  const level = levels[i]!;
  if (level === "#") {
    _all(node, out, i === 0); // [MQTT-4.7.2-1]
    return;
  }
  if (level === "+") {
    if (node.children === null) return;
    for (const [name, child] of node.children) {
      if (i === 0 && name.charCodeAt(0) === 0x24) continue;
      _walk(child, levels, i + 1, out);
    }
    return;
  }
  const child = node.children?.get(level);
  if (child !== undefined) _walk(child, levels, i + 1, out);
}
