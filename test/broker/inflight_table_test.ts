import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InflightTable } from "../../src/broker/inflight_table.ts";

/** Drives an InflightTable and a Map with the same operations and checks they agree throughout. */
function mirror(ops: (t: { set(p: number, v: string): void; delete(p: number): void }) => void) {
  const table = new InflightTable<string>();
  const map = new Map<number, string>();
  const check = () => {
    assert.equal(table.size, map.size);
    assert.deepEqual([...table], [...map], "same entries in the same (insertion) order");
    for (const p of map.keys()) assert.equal(table.get(p), map.get(p));
  };
  ops({
    set(p, v) {
      table.set(p, v);
      map.delete(p); // re-setting moves an entry to the end, in both
      map.set(p, v);
    },
    delete(p) {
      assert.equal(table.delete(p), map.delete(p));
    },
  });
  check();
  return { table, map, check };
}

describe("InflightTable", () => {
  test("behaves as an insertion-ordered Map under a window of sequential ids, wrapping at 65535", () => {
    const { check } = mirror((t) => {
      let next = 65000;
      const inFlight: number[] = [];
      for (let i = 0; i < 5000; i++) {
        t.set(next, `m${i}`);
        inFlight.push(next);
        next = next === 65535 ? 1 : next + 1;
        // acknowledgements arrive out of order now and then
        if (inFlight.length > 64) t.delete(inFlight.splice(i % 7 === 0 ? 3 : 0, 1)[0]!);
      }
    });
    check();
  });

  test("an id left unacknowledged while the ids wrap around keeps its place and its value", () => {
    const { table, check } = mirror((t) => {
      t.set(1, "stuck");
      for (let p = 2; p <= 65535; p++) {
        t.set(p, `m${p}`);
        t.delete(p);
      }
      t.set(7, "after the wrap");
    });
    assert.equal(table.get(1), "stuck");
    assert.deepEqual([...table].map(([p]) => p), [1, 7]);
    check();
  });

  test("randomised operations on arbitrary ids (as restored from a store) agree with a Map", () => {
    let seed = 42;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    const { check } = mirror((t) => {
      for (let i = 0; i < 20000; i++) {
        const p = 1 + rnd(rnd(10) === 0 ? 65535 : 300);
        if (rnd(3) === 0) t.delete(p);
        else t.set(p, `v${i}`);
      }
    });
    check();
  });

  test("entries deleted while iterating are skipped by nothing else; clear empties it", () => {
    const t = new InflightTable<string>();
    for (let p = 1; p <= 40; p++) t.set(p, `m${p}`);
    const seen: number[] = [];
    for (const [p] of t) {
      seen.push(p);
      t.delete(p);
    }
    assert.equal(seen.length, 40);
    assert.equal(t.size, 0);
    t.set(3, "x");
    t.clear();
    assert.equal(t.size, 0);
    assert.equal(t.get(3), undefined);
    assert.equal(t.has(3), false);
  });
});
