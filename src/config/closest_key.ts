/** Suggestions for misspelt keys. */

/** The known key closest to `key` by edit distance, or null when none is plausibly meant. */
export function closestKey(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  const lk = key.toLowerCase();
  for (const k of known) {
    const kk = k.toLowerCase();
    // a truncated key ("max_mqueue" for "max_mqueue_len") counts as one edit
    const d = lk.length >= 4 && (kk.startsWith(lk) || lk.startsWith(kk)) ? 1 : _editDistance(lk, kk);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

/** Levenshtein distance. */
function _editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
