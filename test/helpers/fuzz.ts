/**
 * A structure-aware MQTT fuzzer: valid packets of every type and version (encoded by mqtt-packet,
 * not by us), mutated (bit flips, bytes inserted, dropped, duplicated, lengths and flags changed,
 * packets spliced and cut) and sent over a real socket in random chunks after a CONNECT. A case
 * is a finding when the broker answers with bytes that are not MQTT, with a DISCONNECT reason code
 * the spec does not allow there, or (seen by the runner) dies or logs an internal error.
 */
import net from "node:net";
import mp from "mqtt-packet";
import { ServerDecoder } from "../../src/protocol/codec.ts";

/** One case: the bytes sent, in the chunks they were written in. */
export interface FuzzCase {
  seed: number;
  version: 3 | 4 | 5;
  chunks: Buffer[];
}

/** What the broker did with a case. */
export interface Outcome {
  /** The case's problem, null when the broker behaved. */
  finding: string | null;
  closed: boolean;
  /** The reason code of a DISCONNECT the broker sent, -1 for none. */
  disconnect: number;
}

/** A small fast PRNG (mulberry32), so a case is reproduced from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const gen = (p: unknown, v: number): Buffer => mp.generate(p as mp.Packet, { protocolVersion: v as 4 });

/**
 * Valid packets of each kind for MQTT level `v`: the first is a CONNECT. With `scram` (MQTT 5) the
 * CONNECT starts a SCRAM-SHA-256 exchange as user "fz" and the AUTH packets continue it (with a
 * proof that cannot be right: the server's nonce is random), so the cases reach the exchange's states.
 */
export function seeds(v: 3 | 4 | 5, clientId: string, scram = false): Buffer[] {
  const v5 = v === 5;
  const method = scram && v5 ? "SCRAM-SHA-256" : "m";
  const props = (p: Record<string, unknown>) => (v5 ? { properties: p } : {});
  const connect = {
    cmd: "connect",
    protocolId: v === 3 ? "MQIsdp" : "MQTT",
    protocolVersion: v,
    clientId,
    clean: true,
    keepalive: 30,
    username: "u",
    password: Buffer.from("p"),
    will: {
      topic: "w/t",
      payload: Buffer.from("gone"),
      qos: 1,
      retain: false,
      ...props({ willDelayInterval: 0 }),
    },
    ...props({
      sessionExpiryInterval: 0,
      receiveMaximum: 100,
      topicAliasMaximum: 10,
      userProperties: { a: "b" },
      ...(method === "m"
        ? {}
        : { authenticationMethod: method, authenticationData: Buffer.from("n,,n=fz,r=fzNonce") }),
    }),
  };
  const list: unknown[] = [
    connect,
    {
      cmd: "subscribe",
      messageId: 1,
      subscriptions: [{ topic: "fz/#", qos: 1 }, { topic: "$share/g/fz/+", qos: 2 }],
      ...props({ subscriptionIdentifier: 5 }),
    },
    { cmd: "publish", topic: "fz/a", payload: Buffer.from("x"), qos: 0, retain: false },
    {
      cmd: "publish",
      topic: "fz/b",
      payload: Buffer.from("yy"),
      qos: 1,
      messageId: 2,
      retain: true,
      ...props({ topicAlias: 3, contentType: "t", userProperties: { k: "v" } }),
    },
    {
      cmd: "publish",
      topic: "fz/c",
      payload: Buffer.alloc(40, 7),
      qos: 2,
      messageId: 3,
      retain: false,
      ...props({ messageExpiryInterval: 9, correlationData: Buffer.from("c") }),
    },
    { cmd: "pubrel", messageId: 3, ...(v5 ? { reasonCode: 0 } : {}) },
    { cmd: "puback", messageId: 9, ...(v5 ? { reasonCode: 0x10 } : {}) },
    { cmd: "pubrec", messageId: 10 },
    { cmd: "pubcomp", messageId: 11 },
    { cmd: "unsubscribe", messageId: 4, unsubscriptions: ["fz/#"] },
    { cmd: "pingreq" },
    { cmd: "disconnect", ...(v5 ? { reasonCode: 0, properties: { sessionExpiryInterval: 0 } } : {}) },
  ];
  if (v5) {
    const data = Buffer.from(
      "c=biws,r=fzNonceAAAAAAAAAAAAAAAAAAAAAAAA,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    );
    list.push({
      cmd: "auth",
      reasonCode: 0x18,
      properties: { authenticationMethod: method, authenticationData: data },
    });
    list.push({ cmd: "auth", reasonCode: 0x19, properties: { authenticationMethod: method } });
  }
  return list.map((p) => gen(p, v));
}

/** One mutation of `b`. */
function _mutate(b: Buffer, r: () => number): Buffer {
  const x = Buffer.from(b);
  const at = () => Math.floor(r() * Math.max(1, x.length));
  switch (Math.floor(r() * 10)) {
    case 0: // a bit flipped
      if (x.length > 0) x[at()]! ^= 1 << Math.floor(r() * 8);
      return x;
    case 1: // a byte set to an interesting value
      if (x.length > 0) x[at()] = [0, 1, 0x7f, 0x80, 0xff, 0x2b, 0x23, 0xc0][Math.floor(r() * 8)]!;
      return x;
    case 2: { // bytes inserted
      const i = at();
      return Buffer.concat([
        x.subarray(0, i),
        Buffer.from(Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256))),
        x.subarray(i),
      ]);
    }
    case 3: { // bytes dropped
      const i = at();
      return Buffer.concat([x.subarray(0, i), x.subarray(i + 1 + Math.floor(r() * 4))]);
    }
    case 4: // cut short
      return x.subarray(0, at());
    case 5: // the remaining length made wrong
      if (x.length > 1) x[1] = Math.floor(r() * 256);
      return x;
    case 6: // the packet type and flags changed
      if (x.length > 0) x[0] = Math.floor(r() * 256);
      return x;
    case 7: // a huge or overlong remaining length
      return Buffer.concat([
        x.subarray(0, 1),
        Buffer.from([0xff, 0xff, 0xff, r() < 0.5 ? 0x7f : 0xff]),
        x.subarray(2),
      ]);
    case 8: // duplicated
      return Buffer.concat([x, x]);
    default: // a run of random bytes
      return Buffer.from(Array.from({ length: 1 + Math.floor(r() * 32) }, () => Math.floor(r() * 256)));
  }
}

/** The case of `seed`. */
export function makeCase(seed: number): FuzzCase {
  const r = rng(seed);
  const version = ([3, 4, 5] as const)[Math.floor(r() * 3)]!;
  const s = seeds(version, `fz${seed}`, r() < 0.3);
  const parts: Buffer[] = [r() < 0.15 ? _mutate(s[0]!, r) : s[0]!];
  const n = 1 + Math.floor(r() * 8);
  // some cases mutate nearly every packet, some go deep into a session with one bad packet late
  const rate = r() * 0.7;
  for (let i = 0; i < n; i++) {
    let p = s[1 + Math.floor(r() * (s.length - 1))]!;
    if (r() < rate) { for (let m = 1 + Math.floor(r() * 3); m > 0; m--) p = _mutate(p, r); }
    parts.push(p);
  }
  const all = Buffer.concat(parts);
  const chunks: Buffer[] = [];
  for (let i = 0; i < all.length;) {
    const len = r() < 0.3 ? 1 + Math.floor(r() * 4) : 1 + Math.floor(r() * all.length);
    chunks.push(all.subarray(i, i + len));
    i += len;
  }
  return { seed, version, chunks };
}

/**
 * The protocol level a CONNECT at the start of `b` declares, -1 if it cannot be read: a broker
 * answers a level it does not know in MQTT 3.1.1's format [MQTT-3.1.2-2], even in a case made as MQTT 5.
 */
export function declaredLevel(b: Buffer): number {
  let i = 1;
  while (i < 5 && i < b.length && (b[i]! & 0x80) !== 0) i++;
  const at = i + 1 + 2 + (b.length > i + 2 ? b.readUInt16BE(i + 1) : 0);
  return at < b.length ? b[at]! : -1;
}

/** Sends `c` to the broker at `port`; resolves with what it did once it closed, went quiet for `idleMs`, or after `maxMs`. */
export function runCase(port: number, c: FuzzCase, idleMs = 300, maxMs = 2000): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    const dec = new ServerDecoder(declaredLevel(Buffer.concat(c.chunks)) === 5 ? 5 : 4);
    let finding: string | null = null;
    let disconnect = -1;
    let timer: ReturnType<typeof setTimeout> | null = null;
    // a case subscribed (by mutation) to the canary's topic is never idle: it ends anyway
    const cap = setTimeout(() => done(false), maxMs);
    const done = (closed: boolean) => {
      clearTimeout(cap);
      if (timer !== null) clearTimeout(timer);
      timer = null;
      s.removeAllListeners();
      s.on("error", () => {});
      s.destroy();
      resolve({ finding, closed, disconnect });
    };
    const idle = () => {
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => done(false), idleMs);
    };
    s.on("error", () => {});
    s.on("close", () => done(true));
    s.on("data", (d: Buffer) => {
      idle();
      if (finding !== null) return; // the stream is not followed past what broke it
      dec.push(d);
      try {
        for (let p = dec.next(); p !== null; p = dec.next()) {
          if (p.cmd !== "disconnect") continue;
          disconnect = p.reasonCode ?? 0;
          // the decoder refuses codes no one may send; of the others only 0x04 is the client's alone
          if (disconnect === 0x04) finding ??= "DISCONNECT 0x04, which only a client may send";
        }
      } catch (e) {
        finding ??= `the broker sent bytes that are not MQTT: ${(e as Error).message}`;
      }
    });
    s.on("connect", async () => {
      for (const ch of c.chunks) {
        if (s.destroyed) break;
        s.write(ch);
        await new Promise((r) => setImmediate(r));
      }
      idle();
    });
  });
}

/** A case as JSON (the corpus's format), and back. */
export function caseJson(c: FuzzCase, why: string): string {
  return JSON.stringify(
    {
      why,
      seed: c.seed,
      version: c.version,
      chunks: c.chunks.map((b) => b.toString("base64")),
    },
    null,
    2,
  );
}

export function caseFromJson(text: string): FuzzCase {
  const j = JSON.parse(text) as { seed: number; version: 3 | 4 | 5; chunks: string[] };
  return { seed: j.seed, version: j.version, chunks: j.chunks.map((b) => Buffer.from(b, "base64")) };
}
