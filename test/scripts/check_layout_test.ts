import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkLayout, importsOf, MAX_LINES } from "../../scripts/check_layout.ts";

const files = (o: Record<string, string>) => new Map(Object.entries(o));

describe("the layout gate", () => {
  test("reads value, type-only, multi-line, re-export and side-effect imports", () => {
    const text =
      'import a from "./a.ts";\nimport type { B } from "../b.ts";\nimport {\n  c,\n  type D,\n} from "./c.ts";\n' +
      'export { e } from "./e.ts";\nimport "./f.ts";\nexport const g = "not an import";\n';
    assert.deepEqual(importsOf(text), ["./a.ts", "../b.ts", "./c.ts", "./e.ts", "./f.ts"]);
  });

  test("a layout that follows the layers passes", () => {
    assert.deepEqual(
      checkLayout(files({
        "src/protocol/codec.ts": "export const x = 1;\n",
        "src/broker/broker.ts": 'import { x } from "../protocol/codec.ts";\n',
        "src/cli/start.ts": 'import "../broker/broker.ts";\nimport { parseArgs } from "node:util";\n',
      })),
      [],
    );
  });

  test("a type-only cycle between two files is found", () => {
    const p = checkLayout(files({
      "src/broker/client.ts": 'import type { Session } from "./session.ts";\n',
      "src/broker/session.ts": 'import type { Client } from "./client.ts";\n',
    }));
    assert.deepEqual(p, [
      "import cycle: src/broker/client.ts -> src/broker/session.ts -> src/broker/client.ts",
    ]);
  });

  test("an import against the direction of the layers is found", () => {
    const p = checkLayout(files({
      "src/broker/router.ts": 'import type { Link } from "../transport/link.ts";\n',
      "src/transport/link.ts": "export class Link {}\n",
    }));
    assert.equal(p.length, 1);
    assert.match(
      p[0]!,
      /src\/broker\/router\.ts imports src\/transport\/link\.ts: broker\/ may not import transport\//,
    );
  });

  test("a socket or file module outside src/runtime/ is found", () => {
    const p = checkLayout(files({
      "src/broker/x.ts": 'import net from "node:net";\n',
      "src/runtime/y.ts": 'import net from "node:net";\n',
    }));
    assert.deepEqual(p, [
      "src/broker/x.ts imports node:net: only src/runtime/ may (pass what it needs in a Runtime)",
    ]);
  });

  test(`a file over ${MAX_LINES} lines is found`, () => {
    const ok = "x;\n".repeat(MAX_LINES);
    const p = checkLayout(files({ "src/a/ok.ts": ok, "src/a/long.ts": `${ok}y;\n` }));
    assert.deepEqual(p, [`src/a/long.ts has ${MAX_LINES + 1} lines (at most ${MAX_LINES}): split it`]);
  });
});
