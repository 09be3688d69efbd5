/**
 * Writes docs/conformance.md: every group of MQTT 5's normative statements (a section of the
 * specification), the statements our tests name (`[MQTT-x.y.z-n]` in test/), the test files that
 * name them, and how the group is tested. Run after adding tests: `bun scripts/conformance.ts`.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Section, title, how the group is tested, and what a test file says when it tests the group (its
 * files are listed beside the statements the tests name).
 */
const GROUPS: [string, string, string, RegExp][] = [
  [
    "1.5",
    "Data representation",
    "ill-formed UTF-8 in client identifiers, user names, topics and filters closes the connection; the fuzzer mutates every field",
    /not valid UTF-8|isCleanString|utf8/i,
  ],
  ["2.1", "Fixed header", "reserved flags and unknown packet types close the connection", /reserved/i],
  [
    "2.2",
    "Variable header",
    "packet identifiers in use and not found, properties per packet type",
    /PACKET_IDENTIFIER|0x91|0x92/,
  ],
  [
    "3.1",
    "CONNECT",
    "broker unit tests per field, and MQTT.js, Mosquitto's clients and raw sockets on the release binary",
    /connect\(|CONNECT/,
  ],
  [
    "3.2",
    "CONNACK",
    "properties checked field by field (assigned client identifier, server keep alive, topic alias maximum, response information, server reference, authentication data); refusals close the connection",
    /connack/i,
  ],
  [
    "3.3",
    "PUBLISH",
    "QoS 0/1/2, retain, topic aliases both ways, message expiry, payload format indicator, subscription identifiers, correlation data passed through",
    /topicAlias|messageExpiry|correlation|payloadFormat/,
  ],
  [
    "3.4",
    "PUBACK",
    "reason codes (0x10, 0x87, 0x90, 0x99) with Reason Strings, and without them under Request Problem Information 0",
    /take\("puback"\)/,
  ],
  ["3.5", "PUBREC", "as PUBACK; QoS 2 state across reconnects and restarts", /take\("pubrec"\)/],
  ["3.6", "PUBREL", "0x92 for an unknown packet identifier", /pubrel/i],
  ["3.7", "PUBCOMP", "QoS 2 exactly once, also through a kill of the broker", /pubcomp/i],
  [
    "3.8",
    "SUBSCRIBE",
    "no local, retain as published, retain handling, invalid filters (0x8F), shared subscriptions, subscription identifiers, limits (0x97), ACL (0x87) with Reason Strings",
    /noLocal|retainHandling|rap:|subscriptionIdentifier/,
  ],
  ["3.9", "SUBACK", "one reason code per filter, in order", /granted/],
  ["3.10", "UNSUBSCRIBE", "0x11 when no subscription existed", /unsubscribe/i],
  ["3.11", "UNSUBACK", "one reason code per filter", /unsuback/i],
  [
    "3.12",
    "PINGREQ",
    "PINGRESP; keep alive timers spanned by real connections (test/long/)",
    /pingreq|keep ?alive/i,
  ],
  [
    "3.13",
    "PINGRESP",
    "client side: the bridge and the client tools keep their connections alive",
    /pingresp/i,
  ],
  [
    "3.14",
    "DISCONNECT",
    "reason 0x04 sends the will, others do not; session expiry on DISCONNECT; codes the server sends (0x8D, 0x8E, 0x98, 0x9C/0x9D)",
    /disconnect/i,
  ],
  [
    "3.15",
    "AUTH",
    "SCRAM-SHA-1/256 with MQTT.js and raw packets, re-authentication, AUTH out of turn",
    /cmd: "auth"|handleAuth/,
  ],
  [
    "4.1",
    "Session state",
    "persistent sessions across reconnects and restarts, session expiry over its interval, takeover",
    /sessionExpiry|session present|sessionPresent/i,
  ],
  [
    "4.2",
    "Network connections",
    "TCP, TLS, WebSocket and WSS listeners with real clients",
    /mqtts:|wss:|ws:\/\//,
  ],
  ["4.3", "Quality of Service", "QoS 1 and 2 end to end, loss, duplicates and order checked", /qos: 2/],
  ["4.4", "Message delivery retry", "unacknowledged messages resent on reconnect with DUP", /dup: true|DUP/],
  ["4.5", "Message receipt", "overlapping subscriptions deliver once", /overlapping/i],
  ["4.6", "Message ordering", "order checked through fan-out, bridges and persistence", /in order|reorder/i],
  [
    "4.7",
    "Topic names and filters",
    "wildcards, $-topics not matched by # or +, limits of levels and length",
    /\$SYS|wildcard|max_topic_levels/,
  ],
  ["4.8", "Subscriptions", "shared subscriptions spread messages, also across workers", /\$share/],
  ["4.9", "Flow control", "Receive Maximum both ways, 0x93 when exceeded", /receiveMaximum|Receive Maximum/],
  [
    "4.10",
    "Request / Response",
    "Response Information on request; Response Topic and Correlation Data forwarded",
    /responseInformation|responseTopic/,
  ],
  [
    "4.11",
    "Server redirection",
    "CONNACK 0x9C/0x9D with Server Reference; connected clients moved on reload",
    /serverReference/,
  ],
  [
    "4.12",
    "Enhanced authentication",
    "SCRAM against the RFC 5802/7677 example exchanges; unknown method 0x8C; re-authentication, its failure 0x87",
    /authenticationMethod/,
  ],
  [
    "4.13",
    "Handling errors",
    "a malformed packet closes its connection with the right reason code while the broker serves others; the fuzzer",
    /malformed|Malformed/,
  ],
  ["6.0", "WebSocket", "binary frames, the mqtt subprotocol, packets split across frames", /WebSocket/],
];

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

const refs = new Map<string, { ids: Set<string>; files: Set<string> }>();
const texts = new Map(walk("test").map((f) => [f, readFileSync(f, "utf8")]));
for (const [file, text] of texts) {
  for (const m of text.matchAll(/MQTT-(\d+\.\d+)(?:\.\d+)?-\d+/g)) {
    const r = refs.get(m[1]!) ?? { ids: new Set(), files: new Set() };
    r.ids.add(m[0].replace(/^MQTT-/, ""));
    r.files.add(file);
    refs.set(m[1]!, r);
  }
}

const byNumber = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });
/** Most test files listed per group: those naming its statements first, then those that test it. */
const MAX_FILES = 8;
const rows = GROUPS.map(([section, title, how, says]) => {
  const r = refs.get(section);
  const ids = r === undefined ? "" : [...r.ids].sort(byNumber).join(", ");
  const named = [...(r?.files ?? [])].sort();
  const testing = [...texts].filter(([f, t]) => !named.includes(f) && says.test(t)).map(([f]) => f).sort();
  const all = [...named, ...testing];
  const files = all.slice(0, MAX_FILES).map((f) => `\`${f.replace(/^test\//, "")}\``).join(", ") +
    (all.length > MAX_FILES ? ` and ${all.length - MAX_FILES} more` : "");
  return `| ${section} | ${title} | ${how} | ${ids} | ${files} |`;
});
const total = [...refs.values()].reduce((n, r) => n + r.ids.size, 0);
writeFileSync(
  "docs/conformance.md",
  `# MQTT 5 conformance

Each group of MQTT 5.0's normative statements (a section of the OASIS standard), how it is
tested, and the statements the tests name (${total} in all). Tests name a statement as
\`[MQTT-x.y.z-n]\` in their titles or comments; this file is written from them by
\`bun scripts/conformance.ts\`. MQTT 3.1.1 is tested beside MQTT 5 in the same files wherever it
behaves differently (its statements have other numbers and are not listed here).

| § | group | how it is tested | statements named by tests | test files (under test/) |
|---|---|---|---|---|
${rows.join("\n")}
`,
);
console.log(`docs/conformance.md: ${GROUPS.length} groups, ${total} statements named by tests`);
