/**
 * The Store on an embedded SQLite database (bun:sqlite under Bun, node:sqlite elsewhere, opened by
 * the runtime). WAL mode with synchronous=FULL: commit() returns once the transaction is in the
 * log on disk. Writes between commits share one transaction, so a turn's work costs one fsync.
 * Reference counts of messages, and which message each queue, in-flight and retained row holds,
 * live in memory, rebuilt from the tables by load(): a write never has to read first.
 * Queue rows are written at commit: a delivery queued and sent within one turn (an online
 * subscriber's) never touches the queue table, which saves two of its six writes.
 */
import type { SqliteDatabase, SqliteStatement, SqlValue } from "../runtime/sqlite.ts";
import { SCHEMA, SQL } from "./sqlite_schema.ts";
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

type Stmts = { [K in keyof typeof SQL]: SqliteStatement };

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /** Most messages stored at once (`sqlite.disk_cache_size`); default unbounded. */
  maxMessages?: number;
  /**
   * Called when a write or a commit fails (disk full, I/O error). SQLite has rolled the turn's
   * transaction back, so the broker's memory holds state the file does not: the caller must stop
   * the process before any of the turn's output is written. Default: the error is thrown.
   */
  onFailure?: (e: Error) => never;
}

/** A Store on `db`, creating its tables when missing. */
export function createSqliteStore(db: SqliteDatabase, opts: SqliteStoreOptions = {}): Store {
  const fail = opts.onFailure ?? ((e: Error) => {
    throw e;
  });
  return new SqliteStore(db, opts.maxMessages ?? Infinity, fail);
}

const _ids = (s: string): number[] => (s === "" ? [] : s.split(",").map(Number));
const _delivery = (r: Record<string, SqlValue>): StoredDelivery => ({
  msgId: Number(r.msg_id),
  qos: Number(r.qos),
  retain: r.retain === 1,
  subIds: _ids(String(r.sub_ids)),
});

class SqliteStore implements Store {
  private st: Stmts;
  private refs = new Map<number, number>();
  /** Message id of each queued (by seq) and in-flight (by packet id) row, per client. */
  private queued = new Map<string, Map<number, number>>();
  private flying = new Map<string, Map<number, number>>();
  private retainedIds = new Map<string, number>();
  /** Queue rows of this transaction not written yet, per client. */
  private pending = new Map<string, Map<number, StoredDelivery>>();
  private open = false;
  readonly counters: StoreCounters = { messages: 0, refused: 0 };

  constructor(
    private readonly db: SqliteDatabase,
    private readonly max: number,
    private readonly fail: (e: Error) => never,
  ) {
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
    db.exec(SCHEMA);
    this.st = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as Stmts;
  }

  load(): StoreSnapshot {
    this.commit();
    const all = (sql: string) => this.db.prepare(sql).all();
    const sessions = new Map<string, LoadedSession>();
    for (const r of all("SELECT * FROM sessions")) {
      const will = r.will_msg === null ? null : {
        msgId: Number(r.will_msg),
        at: Number(r.will_at),
        delay: Number(r.will_delay),
        expiry: Number(r.will_expiry),
      };
      const s: LoadedSession = {
        clientId: String(r.client_id),
        expiryInterval: Number(r.expiry_interval),
        expiresAt: Number(r.expires_at),
        will,
        subscriptions: [],
        queue: [],
        inflight: [],
        rxQos2: [],
      };
      sessions.set(s.clientId, s);
    }
    for (const t of ["subscriptions", "queue", "inflight", "rx_qos2"]) {
      this.db.exec(`DELETE FROM ${t} WHERE client_id NOT IN (SELECT client_id FROM sessions)`);
    }
    for (const r of all("SELECT * FROM subscriptions")) {
      sessions.get(String(r.client_id))!.subscriptions.push({
        filter: String(r.filter),
        qos: Number(r.qos),
        noLocal: r.no_local === 1,
        rap: r.rap === 1,
        rh: Number(r.rh),
        subId: r.sub_id === null ? null : Number(r.sub_id),
      });
    }
    for (const r of all("SELECT * FROM queue ORDER BY client_id, seq")) {
      sessions.get(String(r.client_id))!.queue.push({ seq: Number(r.seq), delivery: _delivery(r) });
    }
    for (const r of all("SELECT * FROM inflight")) {
      const state = Number(r.state) === 2 ? 2 : 1;
      sessions.get(String(r.client_id))!.inflight.push({
        packetId: Number(r.packet_id),
        state,
        delivery: _delivery(r),
      });
    }
    for (const r of all("SELECT * FROM rx_qos2")) {
      sessions.get(String(r.client_id))!.rxQos2.push(Number(r.packet_id));
    }
    const retained = all("SELECT * FROM retained").map((r) => ({
      topic: String(r.topic),
      msgId: Number(r.msg_id),
    }));
    this._index([...sessions.values()], retained);
    return {
      messages: this._loadMessages([...sessions.values()], retained),
      sessions: [...sessions.values()],
      retained,
    };
  }

  private _index(sessions: LoadedSession[], retained: { topic: string; msgId: number }[]): void {
    this.queued.clear();
    this.flying.clear();
    this.retainedIds = new Map(retained.map((r) => [r.topic, r.msgId]));
    for (const s of sessions) {
      this.queued.set(s.clientId, new Map(s.queue.map((q) => [q.seq, q.delivery.msgId])));
      this.flying.set(s.clientId, new Map(s.inflight.map((f) => [f.packetId, f.delivery.msgId])));
    }
  }

  /** The client's row map in `m`, created when missing. */
  private _rows(m: Map<string, Map<number, number>>, clientId: string): Map<number, number> {
    let rows = m.get(clientId);
    if (rows === undefined) m.set(clientId, rows = new Map());
    return rows;
  }

  /** Rebuilds the reference counts, deletes messages nothing refers to, and returns the rest. */
  private _loadMessages(
    sessions: LoadedSession[],
    retained: { msgId: number }[],
  ): Map<number, StoredMessage> {
    this.refs.clear();
    const ref = (id: number) => this.refs.set(id, (this.refs.get(id) ?? 0) + 1);
    for (const s of sessions) {
      if (s.will !== null) ref(s.will.msgId);
      for (const q of s.queue) ref(q.delivery.msgId);
      for (const f of s.inflight) ref(f.delivery.msgId);
    }
    for (const r of retained) ref(r.msgId);
    const messages = new Map<number, StoredMessage>();
    for (const r of this.db.prepare("SELECT * FROM messages").all()) {
      const id = Number(r.id);
      if (!this.refs.has(id)) {
        this._write(this.st.dropMessage, id);
        continue;
      }
      messages.set(id, {
        topic: String(r.topic),
        payload: r.payload as Uint8Array,
        qos: Number(r.qos) as 0 | 1 | 2,
        retain: r.retain === 1,
        props: (r.props ?? null) as Uint8Array | null,
        expiresAt: Number(r.expires_at),
      });
    }
    this.commit();
    this.counters.messages = messages.size;
    return messages;
  }

  addMessage(m: StoredMessage): number {
    if (this.counters.messages >= this.max) {
      this.counters.refused++;
      return -1;
    }
    const r = this._write(
      this.st.addMessage,
      m.topic,
      m.payload,
      m.qos,
      m.retain ? 1 : 0,
      m.props,
      m.expiresAt,
    );
    const id = Number(r.lastInsertRowid);
    this.refs.set(id, 0);
    this.counters.messages++;
    return id;
  }

  putSession(s: StoredSession): void {
    const old = this._one(this.st.sessionWill, s.clientId, "will_msg");
    const w = s.will;
    const will = [w?.msgId ?? null, w?.at ?? null, w?.delay ?? null, w?.expiry ?? null];
    this._write(this.st.putSession, s.clientId, s.expiryInterval, s.expiresAt, ...will);
    if (s.will !== null) this._ref(s.will.msgId, 1);
    if (old !== null) this._ref(old, -1);
  }

  deleteSession(clientId: string): void {
    const ids = this._guard(() => {
      this.commitLater();
      const refs = this.st.sessionRefs.all(clientId, clientId, clientId);
      const st = this.st;
      for (const drop of [st.dropSession, st.dropSubs, st.dropQueue, st.dropInflight, st.dropRx]) {
        drop.run(clientId);
      }
      return refs;
    });
    for (const r of ids) this._ref(Number(r.id), -1);
    for (const d of this.pending.get(clientId)?.values() ?? []) this._ref(d.msgId, -1);
    this.pending.delete(clientId);
    this.queued.delete(clientId);
    this.flying.delete(clientId);
  }

  putSubscription(clientId: string, s: StoredSubscription): void {
    this._write(this.st.putSub, clientId, s.filter, s.qos, s.noLocal ? 1 : 0, s.rap ? 1 : 0, s.rh, s.subId);
  }

  deleteSubscription(clientId: string, filter: string): void {
    this._write(this.st.deleteSub, clientId, filter);
  }

  enqueue(clientId: string, seq: number, d: StoredDelivery): void {
    const rows = this._rows(this.queued, clientId);
    const old = rows.get(seq) ?? null;
    rows.set(seq, d.msgId);
    let p = this.pending.get(clientId);
    if (p === undefined) this.pending.set(clientId, p = new Map());
    p.set(seq, d);
    this.commitLater();
    this._ref(d.msgId, 1);
    if (old !== null) this._ref(old, -1);
  }

  dequeue(clientId: string, seq: number): void {
    const rows = this.queued.get(clientId);
    const old = rows?.get(seq);
    if (old === undefined) return;
    rows!.delete(seq);
    if (this.pending.get(clientId)?.delete(seq) !== true) this._write(this.st.dequeue, clientId, seq);
    this._ref(old, -1);
  }

  putInflight(clientId: string, packetId: number, state: 1 | 2, d: StoredDelivery): void {
    const rows = this._rows(this.flying, clientId);
    const old = rows.get(packetId) ?? null;
    rows.set(packetId, d.msgId);
    const subIds = d.subIds.join(",");
    this._write(this.st.putInflight, clientId, packetId, state, d.msgId, d.qos, d.retain ? 1 : 0, subIds);
    this._ref(d.msgId, 1);
    if (old !== null) this._ref(old, -1);
  }

  deleteInflight(clientId: string, packetId: number): void {
    const rows = this.flying.get(clientId);
    const old = rows?.get(packetId);
    if (old === undefined) return;
    rows!.delete(packetId);
    this._write(this.st.deleteInflight, clientId, packetId);
    this._ref(old, -1);
  }

  putRxQos2(clientId: string, packetId: number): void {
    this._write(this.st.putRx, clientId, packetId);
  }

  deleteRxQos2(clientId: string, packetId: number): void {
    this._write(this.st.deleteRx, clientId, packetId);
  }

  setRetained(topic: string, msgId: number): void {
    const old = this.retainedIds.get(topic) ?? null;
    this.retainedIds.set(topic, msgId);
    this._write(this.st.setRetained, topic, msgId);
    this._ref(msgId, 1);
    if (old !== null) this._ref(old, -1);
  }

  deleteRetained(topic: string): void {
    const old = this.retainedIds.get(topic);
    if (old === undefined) return;
    this.retainedIds.delete(topic);
    this._write(this.st.deleteRetained, topic);
    this._ref(old, -1);
  }

  commit(): void {
    if (!this.open) return;
    this._guard(() => {
      for (const [clientId, rows] of this.pending) {
        for (const [seq, d] of rows) {
          this.st.enqueue.run(clientId, seq, d.msgId, d.qos, d.retain ? 1 : 0, d.subIds.join(","));
        }
      }
      this.pending.clear();
      this.db.exec("COMMIT");
    });
    this.open = false;
  }

  /** Runs `f`; a failure goes to onFailure, since the transaction is gone with it. */
  private _guard<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      return this.fail(e as Error);
    }
  }

  close(): void {
    this.commit();
    this.db.close();
  }

  /** Opens the turn's transaction if none is open. */
  private commitLater(): void {
    if (this.open) return;
    this.db.exec("BEGIN");
    this.open = true;
  }

  private _write(st: SqliteStatement, ...params: SqlValue[]): { lastInsertRowid: number | bigint } {
    try {
      this.commitLater();
      return st.run(...params);
    } catch (e) {
      return this.fail(e as Error);
    }
  }

  /** The number in `column` of the first row, null when there is none. */
  private _one(st: SqliteStatement, ...args: [...SqlValue[], string]): number | null {
    const column = args.pop() as string;
    const row = st.all(...(args as SqlValue[]))[0];
    const v = row?.[column];
    return v === undefined || v === null ? null : Number(v);
  }

  private _ref(id: number, by: 1 | -1): void {
    const n = this.refs.get(id);
    if (n === undefined) return;
    if (n + by > 0) return void this.refs.set(id, n + by);
    this.refs.delete(id);
    this._write(this.st.dropMessage, id);
    this.counters.messages--;
  }
}
