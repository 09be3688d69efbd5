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
