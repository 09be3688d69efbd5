/**
 * Fallback load generator for scripts/bench.ts when ../shared/tools/mqttload is not available.
 * MQTT 3.1.1 over node:net; the same flags and JSON fields as mqttload for the scenarios bench.ts
 * runs. It runs in JavaScript, so it saturates long before a fast broker does: its figures are a
 * smoke test, not comparable with mqttload's.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import process from "node:process";
import { parseArgs } from "node:util";

const { values: o } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "1883" },
    pubs: { type: "string", default: "1" },
    subs: { type: "string", default: "1" },
    topics: { type: "string", default: "1" },
    "sub-filter": { type: "string" },
    qos: { type: "string", default: "0" },
    size: { type: "string", default: "64" },
    inflight: { type: "string", default: "64" },
    rate: { type: "string", default: "0" },
    duration: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    "conns-only": { type: "string" },
    "broker-pid": { type: "string" },
    quiet: { type: "boolean" },
    /** Subscribers connect with Clean Session 0: their sessions persist (bench.ts --persist). */
    persistent: { type: "boolean" },
  },
});
const PORT = Number(o.port);
const QOS = Number(o.qos);
const SIZE = Math.max(24, Number(o.size));
const TAG = (Math.random() * 0xffffffff) >>> 0;

function str(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}
function packet(type: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([type, ...len]), body]);
}
const connect = (id: string) =>
  packet(0x10, Buffer.concat([str("MQTT"), Buffer.from([4, _persistent(id) ? 0 : 2, 0, 60]), str(id)]));
const _persistent = (id: string) => o.persistent === true && id.startsWith("sub-");

/** A connection that calls `on(type, flags, body)` for each packet from the broker. */
function open(id: string, on: (type: number, body: Buffer) => void): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(PORT, o.host!, () => s.write(connect(id)));
    let buf: Buffer = Buffer.alloc(0);
    s.on("data", (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      let p = 0;
      for (;;) {
        let len = 0, mul = 1, i = p + 1;
        for (; i < buf.length; i++) {
          len += (buf[i]! & 0x7f) * mul;
          mul *= 128;
          if ((buf[i]! & 0x80) === 0) break;
        }
        if (i >= buf.length || i + 1 + len > buf.length) break;
        const type = buf[p]! >> 4;
        if (type === 2) resolve(s);
        on(type, buf.subarray(i + 1, i + 1 + len));
        p = i + 1 + len;
      }
      buf = buf.subarray(p);
    });
    s.on("error", reject);
  });
}

function cpuTicks(pid: string | undefined): number {
  if (pid === undefined) return -1;
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]);
}
function rssKb(pid: string | undefined): number {
  if (pid === undefined) return -1;
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? -1);
}

async function connsOnly(n: number): Promise<void> {
  const t0 = performance.now();
  const socks: net.Socket[] = [];
  for (let i = 0; i < n; i += 100) {
    socks.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(100, n - i) }, (_, k) => open(`idle-${i + k}`, () => {})),
      )),
    );
  }
  const secs = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, Number(o.duration) * 1000));
  const rss = rssKb(o["broker-pid"]);
  for (const s of socks) s.destroy();
  console.log(
    JSON.stringify({
      conns: n,
      connected: socks.length,
      connect_s: secs,
      connect_rate: socks.length / secs,
      broker_rss_kb: rss,
    }),
  );
}

/** Counters shared by the publishers and subscribers of one run. */
const st = {
  lat: [] as number[],
  last: new Map<string, number>(),
  received: 0,
  reorder: 0,
  inWindow: 0,
  sent: 0,
  expected: 0,
  winStart: Infinity,
  winEnd: Infinity,
  cpuAt: 0,
  cpuTicks: 0,
  sockets: [] as net.Socket[],
};

async function subscriber(j: number, topics: number): Promise<void> {
  const filter = o["sub-filter"] ?? `bench/${j % topics}`;
  const s = await open(`sub-${TAG}-${j}`, (type, body) => {
    if (type !== 3) return;
    let p = 2 + ((body[0]! << 8) | body[1]!);
    if (QOS > 0) {
      s.write(Buffer.from([0x40, 2, body[p]!, body[p + 1]!]));
      p += 2;
    }
    const now = performance.now();
    const pub = body.readUInt32BE(p + 4), seq = body.readUInt32BE(p + 12), sent = body.readDoubleBE(p + 16);
    const key = `${j}/${pub}`;
    if (seq <= (st.last.get(key) ?? -1)) st.reorder++;
    else st.last.set(key, seq);
    if (sent >= st.winStart && sent < st.winEnd) {
      st.received++;
      if (st.lat.length < 200_000) st.lat.push((now - sent) * 1000);
    }
    if (now >= st.winStart && now < st.winEnd) st.inWindow++;
  });
  s.write(packet(0x82, Buffer.concat([Buffer.from([0, 1]), str(filter), Buffer.from([QOS])])));
  st.sockets.push(s);
}

async function publisher(i: number, topics: number, matching: number): Promise<void> {
  let acked = 0, seq = 0;
  const s = await open(`pub-${TAG}-${i}`, (type) => type === 4 && acked++);
  st.sockets.push(s);
  const topic = str(`bench/${i % topics}`);
  const rate = Number(o.rate);
  while (performance.now() < st.winEnd) {
    const now = performance.now();
    if (st.cpuAt === 0 && now >= st.winStart) {
      Object.assign(st, { cpuAt: now, cpuTicks: cpuTicks(o["broker-pid"]) });
    }
    if (QOS > 0 && seq - acked >= Number(o.inflight)) {
      await new Promise((r) => setImmediate(r));
      continue;
    }
    const payload = Buffer.alloc(SIZE);
    payload.writeUInt32BE(TAG, 0);
    payload.writeUInt32BE(i, 4);
    payload.writeUInt32BE(seq, 12);
    payload.writeDoubleBE(now, 16);
    const id = QOS > 0
      ? Buffer.from([((seq % 65535) + 1) >> 8, ((seq % 65535) + 1) & 0xff])
      : Buffer.alloc(0);
    const ok = s.write(packet(0x30 | (QOS << 1), Buffer.concat([topic, id, payload])));
    seq++;
    if (now >= st.winStart) {
      st.sent++;
      st.expected += matching;
    }
    if (rate > 0) await new Promise((r) => setTimeout(r, 1000 / rate));
    else if (!ok) await new Promise((r) => s.once("drain", r));
    else if (seq % 256 === 0) await new Promise((r) => setImmediate(r));
  }
}

async function flow(): Promise<void> {
  const pubs = Number(o.pubs), subs = Number(o.subs), topics = Number(o.topics);
  for (let j = 0; j < subs; j++) await subscriber(j, topics);
  await new Promise((r) => setTimeout(r, 200));
  st.winStart = performance.now() + Number(o.warmup) * 1000;
  st.winEnd = st.winStart + Number(o.duration) * 1000;
  const matching = o["sub-filter"] !== undefined ? subs : Math.ceil(subs / topics);
  await Promise.all(Array.from({ length: pubs }, (_, i) => publisher(i, topics, matching)));
  const ticks = cpuTicks(o["broker-pid"]);
  const secs = (performance.now() - st.cpuAt) / 1000;
  await new Promise((r) => setTimeout(r, 2000));
  const lat = st.lat.sort((a, b) => a - b);
  const pct = (q: number) => lat[Math.min(lat.length - 1, Math.floor(lat.length * q))] ?? NaN;
  console.log(JSON.stringify({
    sent: st.sent,
    expected: st.expected,
    received: st.received,
    lost: Math.max(0, st.expected - st.received),
    dup: 0,
    reorder: st.reorder,
    recv_rate: st.inWindow / Number(o.duration),
    lat_p50_us: pct(0.5),
    lat_p99_us: pct(0.99),
    broker_cpu_pct: ticks < 0 ? -1 : ((ticks - st.cpuTicks) / 100 / secs) * 100,
    broker_rss_kb: rssKb(o["broker-pid"]),
  }));
  for (const s of st.sockets) s.destroy();
}

if (o["conns-only"] !== undefined) await connsOnly(Number(o["conns-only"]));
else await flow();
process.exit(0);
