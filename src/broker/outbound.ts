/**
 * The bounded per-session queue of deliveries not yet written (waiting for the socket, for the
 * send quota, or for the client to come back). Drop rule when full: a new QoS 0 delivery is dropped;
 * a new QoS 1/2 delivery evicts the oldest queued QoS 0 one, or is dropped when there is none.
 */

/** Ring buffer of deliveries (of messages `M`) with a hard bound. */
export class OutQueue<M> {
  /** Deliveries dropped or evicted because the queue was full (evictions included). */
  dropped = 0;
  private msgs: (M | null)[] = [];
  private qos: number[] = [];
  private retain: boolean[] = [];
  private subIds: (readonly number[] | null)[] = [];
  /** Journal sequence numbers (durable.ts), 0 for deliveries not journaled. */
  private seqs: number[] = [];
  private head = 0;
  private size = 0;
  private live = 0;
  private qos0 = 0;

  /** `bound` is the most deliveries it holds (`mqtt.max_mqueue_len`). */
  constructor(public bound: number) {}

  /** Live deliveries queued. */
  get length(): number {
    return this.live;
  }

  /** Queues a delivery; returns false when it was dropped. */
  push(msg: M, qos: number, retain: boolean, subIds: readonly number[] | null): boolean {
    if (this.live >= this.bound) {
      if (qos === 0 || this.qos0 === 0 || !this._evictQos0()) {
        this.dropped++;
        return false;
      }
    }
    if (this.size === this.msgs.length) this._grow();
    const i = (this.head + this.size) % this.msgs.length;
    this.msgs[i] = msg;
    this.qos[i] = qos;
    this.retain[i] = retain;
    this.subIds[i] = subIds;
    this.seqs[i] = 0;
    this.size++;
    this.live++;
    if (qos === 0) this.qos0++;
    return true;
  }

  /** Sets the journal sequence number of the delivery just pushed. */
  tagLast(seq: number): void {
    this.seqs[(this.head + this.size - 1) % this.msgs.length] = seq;
  }

  /** QoS of the next delivery, -1 when empty. */
  peekQos(): number {
    this._skipHoles();
    return this.size === 0 ? -1 : this.qos[this.head]!;
  }

  /** Removes the next delivery; read it with the `last*` fields. Returns null when empty. */
  shift(): M | null {
    this._skipHoles();
    if (this.size === 0) return null;
    const i = this.head;
    const msg = this.msgs[i]!;
    this.lastQos = this.qos[i]!;
    this.lastRetain = this.retain[i]!;
    this.lastSubIds = this.subIds[i]!;
    this.lastSeq = this.seqs[i]!;
    this.msgs[i] = null;
    this.subIds[i] = null;
    this.head = (i + 1) % this.msgs.length;
    this.size--;
    this.live--;
    if (this.lastQos === 0) this.qos0--;
    return msg;
  }

  /** Fields of the delivery last returned by {@link shift} (avoids an object per delivery). */
  lastQos = 0;
  lastRetain = false;
  lastSubIds: readonly number[] | null = null;
  lastSeq = 0;

  /** Removes every QoS 0 delivery (a session going offline keeps only QoS 1/2). */
  dropQos0(): void {
    if (this.qos0 === 0) return;
    const n = this.msgs.length;
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) % n;
      if (this.msgs[i] !== null && this.qos[i] === 0) this._hole(i);
    }
  }

  /** Removes everything. */
  clear(): void {
    this.msgs = [];
    this.qos = [];
    this.retain = [];
    this.subIds = [];
    this.seqs = [];
    this.head =
      this.size =
      this.live =
      this.qos0 =
        0;
  }

  private _evictQos0(): boolean {
    const n = this.msgs.length;
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) % n;
      if (this.msgs[i] !== null && this.qos[i] === 0) {
        this._hole(i);
        this.dropped++;
        return true;
      }
    }
    return false;
  }

  private _hole(i: number): void {
    this.msgs[i] = null;
    this.subIds[i] = null;
    this.live--;
    this.qos0--;
  }

  private _skipHoles(): void {
    while (this.size > 0 && this.msgs[this.head] === null) {
      this.head = (this.head + 1) % this.msgs.length;
      this.size--;
    }
  }

  private _grow(): void {
    const n = this.msgs.length;
    const cap = n === 0 ? 8 : n * 2;
    const msgs: (M | null)[] = new Array(cap).fill(null);
    const qos: number[] = new Array(cap).fill(0);
    const retain: boolean[] = new Array(cap).fill(false);
    const subIds: (readonly number[] | null)[] = new Array(cap).fill(null);
    const seqs: number[] = new Array(cap).fill(0);
    for (let k = 0; k < this.size; k++) {
      const i = (this.head + k) % n;
      msgs[k] = this.msgs[i]!;
      qos[k] = this.qos[i]!;
      retain[k] = this.retain[i]!;
      subIds[k] = this.subIds[i]!;
      seqs[k] = this.seqs[i]!;
    }
    this.msgs = msgs;
    this.qos = qos;
    this.retain = retain;
    this.subIds = subIds;
    this.seqs = seqs;
    this.head = 0;
  }
}
