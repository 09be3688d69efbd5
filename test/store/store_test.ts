/** One conformance suite for every Store: memory, and SQLite on a real file reopened between steps. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createMemoryStore } from "../../src/store/memory_store.ts";
import { createSqliteStore } from "../../src/store/sqlite_store.ts";
import type { Store, StoredDelivery, StoredMessage } from "../../src/store/store.ts";
import { openSqlite } from "../../src/runtime/sqlite.ts";

/** A store and a way to get it back as after a restart (the same one, for memory). */
interface Subject {
  store: Store;
  reopen(): Store;
}

const IMPLEMENTATIONS: [string, (max?: number) => Subject][] = [
  ["memory", (max) => {
    const store = createMemoryStore(max === undefined ? {} : { maxMessages: max });
    return { store, reopen: () => store };
  }],
  ["sqlite", (max) => {
    const file = join(mkdtempSync(join(tmpdir(), "broker-store-")), "broker.db");
    const opts = max === undefined ? {} : { maxMessages: max };
    const subject: Subject = {
      store: createSqliteStore(openSqlite(file), opts),
      reopen() {
        subject.store.close();
        subject.store = createSqliteStore(openSqlite(file), opts);
        return subject.store;
      },
    };
    return subject;
  }],
];

const msg = (topic: string, payload = "p"): StoredMessage => ({
  topic,
  payload: new TextEncoder().encode(payload),
  qos: 1,
  retain: false,
  props: null,
  expiresAt: 0,
});
const dl = (msgId: number, subIds: number[] = []): StoredDelivery => ({
  msgId,
  qos: 1,
  retain: false,
  subIds,
});
const session = (clientId: string) => ({ clientId, expiryInterval: 3600, expiresAt: 0, will: null });

for (const [name, make] of IMPLEMENTATIONS) {
  describe(`Store conformance: ${name}`, () => {
    test("an empty store loads empty", () => {
      const snap = make().store.load();
      assert.equal(snap.sessions.length, 0);
      assert.equal(snap.messages.size, 0);
      assert.deepEqual(snap.retained, []);
    });

    test("a session with subscriptions, queue, in-flight state, received QoS 2 ids and a will comes back whole", () => {
      const s = make();
      const will = s.store.addMessage({
        ...msg("wills/a", "gone"),
        props: new Uint8Array([0x02, 0, 0, 0, 5]),
      });
      const m1 = s.store.addMessage(msg("t/1", "one"));
      const m2 = s.store.addMessage(msg("t/2", "two"));
      const stored = {
        clientId: "a",
        expiryInterval: 60,
        expiresAt: 1234,
        will: { msgId: will, at: 99, delay: 30, expiry: -1 },
      };
      const sub = { filter: "$share/g/t/#", qos: 2, noLocal: true, rap: true, rh: 2, subId: 7 };
      s.store.putSession(stored);
      s.store.putSubscription("a", sub);
      s.store.enqueue("a", 2, dl(m2, [7, 9]));
      s.store.enqueue("a", 1, dl(m1));
      s.store.putInflight("a", 10, 2, dl(m1));
      s.store.putRxQos2("a", 33);
      s.store.commit();
      const snap = s.reopen().load();
      assert.equal(snap.sessions.length, 1);
      const a = snap.sessions[0]!;
      assert.deepEqual(
        { clientId: a.clientId, expiryInterval: a.expiryInterval, expiresAt: a.expiresAt, will: a.will },
        stored,
      );
      assert.deepEqual(a.subscriptions, [sub]);
      assert.deepEqual(
        a.queue,
        [{ seq: 1, delivery: dl(m1) }, { seq: 2, delivery: dl(m2, [7, 9]) }],
        "in seq order",
      );
      assert.deepEqual(a.inflight, [{ packetId: 10, state: 2, delivery: dl(m1) }]);
      assert.deepEqual(a.rxQos2, [33]);
      assert.equal(new TextDecoder().decode(snap.messages.get(m2)!.payload), "two");
      assert.deepEqual([...snap.messages.get(will)!.props!], [0x02, 0, 0, 0, 5]);
    });

    test("a message is stored once for every reference and deleted with the last one", () => {
      const s = make();
      const m = s.store.addMessage(msg("shared"));
      for (const c of ["a", "b"]) s.store.putSession(session(c));
      s.store.enqueue("a", 1, dl(m));
      s.store.enqueue("b", 1, dl(m));
      s.store.setRetained("shared", m);
      s.store.commit();
      assert.equal(s.store.counters.messages, 1);
      s.store.dequeue("a", 1);
      s.store.deleteSession("b");
      s.store.commit();
      assert.equal(s.reopen().load().messages.size, 1, "the retained reference keeps it");
      s.store.deleteRetained("shared");
      s.store.commit();
      assert.equal(s.store.counters.messages, 0);
      assert.equal(s.reopen().load().messages.size, 0);
    });

    test("replacing a retained message or an in-flight entry releases the old message only", () => {
      const s = make();
      const old = s.store.addMessage(msg("r", "old"));
      const now = s.store.addMessage(msg("r", "new"));
      s.store.putSession(session("a"));
      s.store.setRetained("r", old);
      s.store.setRetained("r", now);
      s.store.putInflight("a", 1, 1, dl(now));
      s.store.putInflight("a", 1, 2, dl(now)); // PUBREC received: same message, new state
      s.store.commit();
      const snap = s.reopen().load();
      assert.deepEqual([...snap.messages.keys()], [now]);
      assert.deepEqual(snap.retained, [{ topic: "r", msgId: now }]);
      assert.equal(snap.sessions[0]!.inflight[0]!.state, 2);
    });

    test("a dequeue removes a row of an earlier commit and one of the same commit alike", () => {
      const s = make();
      const [m1, m2, m3] = ["1", "2", "3"].map((t) => s.store.addMessage(msg(t))) as [number, number, number];
      s.store.putSession(session("a"));
      s.store.enqueue("a", 1, dl(m1));
      s.store.commit();
      s.store.enqueue("a", 2, dl(m2));
      s.store.enqueue("a", 3, dl(m3));
      s.store.putInflight("a", 7, 1, dl(m1));
      s.store.dequeue("a", 1);
      s.store.putInflight("a", 8, 1, dl(m2));
      s.store.dequeue("a", 2);
      s.store.commit();
      const a = s.reopen().load().sessions[0]!;
      assert.deepEqual(a.queue, [{ seq: 3, delivery: dl(m3) }]);
      assert.deepEqual(a.inflight.map((f) => [f.packetId, f.delivery.msgId]).sort(), [[7, m1], [8, m2]]);
      s.store.dequeue("a", 3);
      s.store.deleteInflight("a", 7);
      s.store.deleteInflight("a", 8);
      s.store.commit();
      assert.equal(s.store.counters.messages, 0);
      assert.equal(s.reopen().load().messages.size, 0);
    });

    test("deleteSession removes its subscriptions, queue and in-flight state", () => {
      const s = make();
      const m = s.store.addMessage(msg("t"));
      s.store.putSession(session("a"));
      s.store.putSubscription("a", { filter: "t", qos: 1, noLocal: false, rap: false, rh: 0, subId: null });
      s.store.enqueue("a", 1, dl(m));
      s.store.putRxQos2("a", 5);
      s.store.deleteSession("a");
      s.store.commit();
      const snap = s.reopen().load();
      assert.equal(snap.sessions.length, 0);
      assert.equal(snap.messages.size, 0);
    });

    test("at load, messages nothing refers to and rows of sessions never stored are dropped", () => {
      const s = make();
      s.store.addMessage(msg("lonely"));
      const m = s.store.addMessage(msg("orphan"));
      s.store.enqueue("ghost", 1, dl(m)); // no putSession("ghost")
      s.store.commit();
      const snap = s.reopen().load();
      assert.equal(snap.sessions.length, 0);
      assert.equal(snap.messages.size, 0);
      assert.equal(s.store.counters.messages, 0);
    });

    test("at maxMessages, addMessage refuses (-1) and counts it; a freed slot is usable again", () => {
      const s = make(2);
      s.store.putSession(session("a"));
      const ids = [s.store.addMessage(msg("1")), s.store.addMessage(msg("2"))];
      for (const [i, id] of ids.entries()) s.store.enqueue("a", i, dl(id));
      assert.equal(s.store.addMessage(msg("3")), -1);
      assert.equal(s.store.counters.refused, 1);
      s.store.dequeue("a", 0);
      assert.notEqual(s.store.addMessage(msg("4")), -1);
    });
  });
}

describe("SQLite store files", () => {
  test("a file that is not a database is an error that says so", () => {
    const file = join(mkdtempSync(join(tmpdir(), "broker-store-")), "broker.db");
    writeFileSync(file, "this is not an SQLite database, but it is long enough to have a header".repeat(20));
    assert.throws(() => createSqliteStore(openSqlite(file)), /not a database/i);
  });
});
