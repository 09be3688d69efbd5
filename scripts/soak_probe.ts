/**
 * The soak's latency probe, in a process of its own so that the load generator's work does not
 * count: one raw MQTT connection that sends PINGREQ every 100 ms (one at a time) and prints, every
 * `--every` ms, a JSON line with the round trips seen. The broker answers PINGREQ in the turn it
 * reads it, so the round trip bounds how long its event loop kept a ready socket waiting.
 * `bun scripts/soak_probe.ts --port 1883 [--every 60000]`
 */
import net from "node:net";
import process from "node:process";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { port: { type: "string" }, every: { type: "string", default: "60000" } },
});
const CONNECT = Buffer.from([
  0x10,
  0x12,
  0,
  4,
  0x4d,
  0x51,
  0x54,
  0x54,
  4,
  2,
  0,
  60,
  0,
  6,
  ...Buffer.from("sprobe"),
]);
const PINGREQ = Buffer.from([0xc0, 0]);

const rtts: number[] = [];
let sentAt = 0;
const s = net.connect(Number(values.port), "127.0.0.1", () => s.write(CONNECT));
s.setNoDelay(true);
s.on("data", (d: Buffer) => {
  for (const b of d) {
    if (b !== 0xd0) continue; // PINGRESP: 0xd0 0x00; the CONNACK (0x20 0x02 0 0) has no 0xd0 byte
    rtts.push(performance.now() - sentAt);
    sentAt = 0;
  }
});
s.on("close", () => {
  process.stdout.write(`${JSON.stringify({ closed: true })}\n`);
  process.exit(1);
});
setInterval(() => {
  if (sentAt !== 0) return; // still waiting: the wait shows in that round trip
  sentAt = performance.now();
  s.write(PINGREQ);
}, 100);
setInterval(() => {
  const v = rtts.splice(0).sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.floor(q * v.length))] ?? NaN;
  const out = { n: v.length, p50: at(0.5), p99: at(0.99), max: v.at(-1) ?? NaN };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}, Number(values.every));
