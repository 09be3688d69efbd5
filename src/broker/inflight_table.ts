/**
 * A session's sent QoS 1/2 deliveries by packet identifier, in sending order: what a Map would do,
 * without its cost under churn. Every QoS 1 delivery is one insert and one delete; with a Map,
 * QoS 1 fan-out (1 → 20, scripts/bench.ts scenario g) ran at 1.87M msg/s, with this table at
 * 2.62M (interleaved runs, medians; fan-in (h) 790k → 1.24M).
 *
 * Also the QoS 2 packet identifiers a client has sent and not yet released (the same churn: an
 * insert at PUBLISH, a delete at PUBREL).
 *
 * Packet identifiers are handed out in sequence (by us, and by nearly every client), so the ones
 * in flight lie in a narrow range: they index a small power-of-two ring directly (`pid & mask`).
 * An identifier whose slot is taken grows the ring; when that would make it much larger than what
 * it holds (one delivery never acknowledged while the identifiers wrap around), the table falls
 * back to a Map, which bounds the memory at what a Map costs. Idle sessions allocate nothing.
 */

/** Slots per entry beyond which the ring gives way to a Map. */
const SPARSE = 8;
const FIRST = 16;

export class InflightTable<T> {
  private pids: number[] = [];
  private vals: (T | undefined)[] = [];
  /** Insertion order of each slot's entry (iteration sorts by it). */
  private seqs: number[] = [];
  private mask = -1;
  private seq = 0;
  private map: Map<number, T> | null = null;
  size = 0;

  get(pid: number): T | undefined {
    if (this.map !== null) return this.map.get(pid);
    const i = pid & this.mask;
    return this.mask >= 0 && this.pids[i] === pid ? this.vals[i] : undefined;
  }

  has(pid: number): boolean {
    return this.get(pid) !== undefined;
  }

  set(pid: number, v: T): void {
    if (this.map !== null) {
      this.map.delete(pid); // a replaced entry moves to the end, as sending it again does
      this.map.set(pid, v);
      this.size = this.map.size;
      return;
    }
    let i = pid & this.mask;
    if (this.mask < 0 || (this.vals[i] !== undefined && this.pids[i] !== pid)) {
      if (!this._grow(pid)) return this.set(pid, v);
      i = pid & this.mask;
    }
    if (this.vals[i] === undefined) this.size++;
    this.pids[i] = pid;
    this.vals[i] = v;
    this.seqs[i] = this.seq++;
  }

  delete(pid: number): boolean {
    if (this.map !== null) {
      const had = this.map.delete(pid);
      this.size = this.map.size;
      if (this.size === 0) this.map = null; // back to a ring when next used
      return had;
    }
    const i = pid & this.mask;
    if (this.mask < 0 || this.pids[i] !== pid || this.vals[i] === undefined) return false;
    this.vals[i] = undefined;
    this.pids[i] = 0;
    this.size--;
    return true;
  }

  clear(): void {
    this.pids = [];
    this.vals = [];
    this.seqs = [];
    this.mask = -1;
    this.map = null;
    this.size = 0;
  }

  /** Entries in the order they were set; entries may be deleted while iterating. */
  [Symbol.iterator](): IterableIterator<[number, T]> {
    return this._ordered()[Symbol.iterator]();
  }

  private _ordered(): [number, T][] {
    if (this.map !== null) return [...this.map];
    const at: number[] = [];
    for (let i = 0; i <= this.mask; i++) if (this.vals[i] !== undefined) at.push(i);
    at.sort((a, b) => this.seqs[a]! - this.seqs[b]!);
    return at.map((i) => [this.pids[i]!, this.vals[i]!]);
  }

  /**
   * Makes room for `pid`: a ring large enough that no two entries share a slot, or a Map when
   * that ring would be sparse. Returns false when it switched to a Map.
   */
  private _grow(pid: number): boolean {
    const old = this._ordered();
    let cap = this.mask < 0 ? FIRST : (this.mask + 1) * 2;
    for (; cap <= 65536; cap *= 2) {
      const seen = new Set<number>([pid & (cap - 1)]);
      if (old.every(([p]) => !seen.has(p & (cap - 1)) && seen.add(p & (cap - 1)))) break;
    }
    if (cap > 65536 || (cap > FIRST && cap > SPARSE * (old.length + 1))) {
      this.map = new Map(old);
      this.pids = [];
      this.vals = [];
      this.seqs = [];
      this.mask = -1;
      return false;
    }
    this.mask = cap - 1;
    this.pids = new Array<number>(cap).fill(0);
    this.vals = new Array<T | undefined>(cap).fill(undefined);
    this.seqs = new Array<number>(cap).fill(0);
    this.size = 0;
    for (const [p, v] of old) this.set(p, v);
    return true;
  }
}
