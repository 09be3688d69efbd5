/**
 * The Store in memory: the reference the SQLite store is checked against (test/store/), and what a
 * broker restarted in the same process (tests) reloads from. Nothing survives the process.
 */
import type {
  LoadedSession,
  Store,
  StoreCounters,
  StoredDelivery,
  StoredMessage,
  StoredSession,
  StoredSubscription,
  StoreSnapshot,
} from "./store.ts";

interface Entry {
  s: StoredSession | null;
  subs: Map<string, StoredSubscription>;
  queue: Map<number, StoredDelivery>;
  inflight: Map<number, { state: 1 | 2; d: StoredDelivery }>;
  rx: Set<number>;
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Most messages stored at once (`sqlite.disk_cache_size`); default unbounded. */
  maxMessages?: number;
}

/** Creates an empty memory store. */
export function createMemoryStore(opts: MemoryStoreOptions = {}): Store {
  return new MemoryStore(opts.maxMessages ?? Infinity);
}

class MemoryStore implements Store {
  private msgs = new Map<number, { m: StoredMessage; refs: number }>();
  private nextId = 1;
  private sessions = new Map<string, Entry>();
  private retained = new Map<string, number>();
  readonly counters: StoreCounters = { messages: 0, refused: 0 };

  constructor(private readonly max: number) {}

  load(): StoreSnapshot {
    for (const [id, e] of this.msgs) if (e.refs === 0) this._drop(id);
    const sessions: LoadedSession[] = [];
    for (const [id, e] of this.sessions) {
      if (e.s === null) {
        this.deleteSession(id); // rows of a session that was never stored, or deleted: orphans
        continue;
      }
      sessions.push({
        ...e.s,
        subscriptions: [...e.subs.values()],
        queue: [...e.queue].sort((a, b) => a[0] - b[0]).map(([seq, delivery]) => ({ seq, delivery })),
        inflight: [...e.inflight].map(([packetId, x]) => ({ packetId, state: x.state, delivery: x.d })),
        rxQos2: [...e.rx],
      });
    }
    const messages = new Map([...this.msgs].map(([id, e]) => [id, e.m]));
    return { messages, sessions, retained: [...this.retained].map(([topic, msgId]) => ({ topic, msgId })) };
  }

  addMessage(msg: StoredMessage): number {
    if (this.msgs.size >= this.max) {
      this.counters.refused++;
      return -1;
    }
    const id = this.nextId++;
    // a copy, as SQLite makes: the caller's buffer may be a socket read buffer
    const m = {
      ...msg,
      payload: Uint8Array.from(msg.payload),
      props: msg.props && Uint8Array.from(msg.props),
    };
    this.msgs.set(id, { m, refs: 0 });
    this.counters.messages = this.msgs.size;
    return id;
  }

  putSession(s: StoredSession): void {
    const e = this._entry(s.clientId);
    if (s.will !== null) this._ref(s.will.msgId, 1);
    if (e.s?.will) this._ref(e.s.will.msgId, -1);
    e.s = { ...s };
  }

  deleteSession(clientId: string): void {
    const e = this.sessions.get(clientId);
    if (e === undefined) return;
    if (e.s?.will) this._ref(e.s.will.msgId, -1);
    for (const d of e.queue.values()) this._ref(d.msgId, -1);
    for (const x of e.inflight.values()) this._ref(x.d.msgId, -1);
    this.sessions.delete(clientId);
  }

  putSubscription(clientId: string, sub: StoredSubscription): void {
    this._entry(clientId).subs.set(sub.filter, { ...sub });
  }

  deleteSubscription(clientId: string, filter: string): void {
    this.sessions.get(clientId)?.subs.delete(filter);
  }

  enqueue(clientId: string, seq: number, d: StoredDelivery): void {
    const q = this._entry(clientId).queue;
    const old = q.get(seq);
    this._ref(d.msgId, 1);
    if (old !== undefined) this._ref(old.msgId, -1);
    q.set(seq, { ...d, subIds: [...d.subIds] });
  }

  dequeue(clientId: string, seq: number): void {
    const q = this.sessions.get(clientId)?.queue;
    const d = q?.get(seq);
    if (d === undefined) return;
    q!.delete(seq);
    this._ref(d.msgId, -1);
  }

  putInflight(clientId: string, packetId: number, state: 1 | 2, d: StoredDelivery): void {
    const m = this._entry(clientId).inflight;
    const old = m.get(packetId);
    this._ref(d.msgId, 1);
    if (old !== undefined) this._ref(old.d.msgId, -1);
    m.set(packetId, { state, d: { ...d, subIds: [...d.subIds] } });
  }

  deleteInflight(clientId: string, packetId: number): void {
    const m = this.sessions.get(clientId)?.inflight;
    const old = m?.get(packetId);
    if (old === undefined) return;
    m!.delete(packetId);
    this._ref(old.d.msgId, -1);
  }

  putRxQos2(clientId: string, packetId: number): void {
    this._entry(clientId).rx.add(packetId);
  }

  deleteRxQos2(clientId: string, packetId: number): void {
    this.sessions.get(clientId)?.rx.delete(packetId);
  }

  setRetained(topic: string, msgId: number): void {
    const old = this.retained.get(topic);
    this._ref(msgId, 1);
    if (old !== undefined) this._ref(old, -1);
    this.retained.set(topic, msgId);
  }

  deleteRetained(topic: string): void {
    const old = this.retained.get(topic);
    if (old === undefined) return;
    this.retained.delete(topic);
    this._ref(old, -1);
  }

  commit(): void {}

  close(): void {}

  private _entry(clientId: string): Entry {
    let e = this.sessions.get(clientId);
    if (e === undefined) {
      e = { s: null, subs: new Map(), queue: new Map(), inflight: new Map(), rx: new Set() };
      this.sessions.set(clientId, e);
    }
    return e;
  }

  private _ref(id: number, by: 1 | -1): void {
    const e = this.msgs.get(id);
    if (e === undefined) return;
    e.refs += by;
    if (e.refs <= 0) this._drop(id);
  }

  private _drop(id: number): void {
    this.msgs.delete(id);
    this.counters.messages = this.msgs.size;
  }
}
