/** Topic name and topic filter rules (MQTT 5 section 4.7, 3.1.1 section 4.7). */

/**
 * True when `topic` is a valid topic name for PUBLISH: not empty, no wildcards, no U+0000
 * [MQTT-4.7.1-1] [MQTT-4.7.3-1] [MQTT-4.7.3-2].
 */
export function isValidTopicName(topic: string): boolean {
  if (topic.length === 0) return false;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === 0x2b || c === 0x23 || c === 0) return false;
  }
  return true;
}

/**
 * True when `filter` is a valid topic filter: `#` only as the last whole level, `+` only as a whole
 * level, not empty, no U+0000 [MQTT-4.7.1-2] [MQTT-4.7.1-3] [MQTT-4.7.3-1].
 */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0) return false;
  const n = filter.length;
  for (let i = 0; i < n; i++) {
    const c = filter.charCodeAt(i);
    if (c === 0) return false;
    if (c === 0x23) {
      if (i !== n - 1) return false;
      if (i > 0 && filter.charCodeAt(i - 1) !== 0x2f) return false;
    } else if (c === 0x2b) {
      if (i > 0 && filter.charCodeAt(i - 1) !== 0x2f) return false;
      if (i < n - 1 && filter.charCodeAt(i + 1) !== 0x2f) return false;
    }
  }
  return true;
}

/** A parsed `$share/{group}/{filter}` subscription. */
export interface SharedFilter {
  group: string;
  filter: string;
}

/**
 * Splits a shared subscription into group and filter. Returns undefined when `filter` is not a
 * shared subscription, null when it is one but malformed [MQTT-4.8.2-1] [MQTT-4.8.2-2].
 */
export function parseSharedFilter(filter: string): SharedFilter | undefined | null {
  if (!filter.startsWith("$share/")) return undefined;
  const slash = filter.indexOf("/", 7);
  if (slash < 0) return null;
  const group = filter.slice(7, slash);
  const rest = filter.slice(slash + 1);
  if (group.length === 0 || group.includes("+") || group.includes("#")) return null;
  if (!isValidTopicFilter(rest)) return null;
  return { group, filter: rest };
}

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;

/**
 * True when the topic name `topic` matches the filter `filter` (`+`, `#`; a `$` topic only by a
 * filter naming its first level [MQTT-4.7.2-1]). Walks both strings in place: no allocation.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const fc0 = filter.charCodeAt(0);
  if (topic.charCodeAt(0) === DOLLAR && (fc0 === PLUS || fc0 === HASH)) return false;
  let fi = 0;
  let ti = 0;
  while (fi < filter.length) {
    const fc = filter.charCodeAt(fi);
    if (fc === HASH) return true;
    if (fc === PLUS) {
      while (ti < topic.length && topic.charCodeAt(ti) !== SLASH) ti++;
      fi++;
    } else {
      for (; fi < filter.length && filter.charCodeAt(fi) !== SLASH; fi++, ti++) {
        if (ti >= topic.length || topic.charCodeAt(ti) !== filter.charCodeAt(fi)) return false;
      }
      if (ti < topic.length && topic.charCodeAt(ti) !== SLASH) return false;
    }
    if (fi === filter.length) break;
    fi++; // past the filter's '/'
    // the topic ended one level early: only a trailing "#" still matches ("a/#" matches "a")
    if (ti === topic.length) return filter.length - fi === 1 && filter.charCodeAt(fi) === HASH;
    ti++;
  }
  return ti === topic.length;
}
