import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createLogger } from "../../src/cli/logger.ts";
import { createOsServices } from "../../src/runtime/os_services.ts";

describe("logger", () => {
  test("lines carry time, level and client id; the file rotates by size keeping `count` old files", () => {
    const dir = mkdtempSync(join(tmpdir(), "log-"));
    const file = join(dir, "nanomq.log");
    const console: string[] = [];
    const log = createLogger(
      { level: "info", console: true, file, rotationSize: 1024, rotationCount: 2 },
      (l) => console.push(l),
      createOsServices(),
    );
    log.debug("not shown");
    log.info("Connected", "sensor-1");
    log.warn("odd id", "a b");
    assert.equal(console.length, 2);
    assert.match(console[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info {2}\[sensor-1\] Connected\n$/);
    assert.match(console[1]!, /warn {2}\["a b"\] odd id/);
    for (let i = 0; i < 100; i++) log.error(`line ${i} ${"x".repeat(60)}`);
    log.close();
    assert.ok(existsSync(`${file}.1`) && existsSync(`${file}.2`));
    assert.ok(!existsSync(`${file}.3`), "only `count` old files are kept");
    for (const f of [file, `${file}.1`, `${file}.2`]) assert.ok(readFileSync(f).length <= 1024);
    assert.match(readFileSync(file, "utf8"), /line 99 /);
  });
});
