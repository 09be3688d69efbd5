/**
 * SCRAM against the example exchanges of RFC 5802 (SHA-1) and RFC 7677 (SHA-256): the server's
 * first and final messages, byte for byte, from the RFCs' nonces, salt and password; then the
 * refusals (wrong proof, unknown user told apart from nobody, a replayed or foreign nonce).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  parseScramEntry,
  scramEntry,
  ScramExchange,
  type ScramKeys,
  scramKeys,
  verifyScramEntry,
} from "../../src/auth/scram.ts";
import { ScramClient } from "../helpers/scram_client.ts";

const RFC = {
  "SCRAM-SHA-1": {
    hash: "sha1" as const,
    salt: "QSXCR+Q6sek8bf92",
    cnonce: "fyko+d2lbbFgONRv9qkxdawL",
    snonce: "3rfcNHYJY1ZVvWVs7j",
    clientFinal: "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=",
    serverFinal: "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=",
  },
  "SCRAM-SHA-256": {
    hash: "sha256" as const,
    salt: "W22ZaJ0SNY7soEsUEjb6gQ==",
    cnonce: "rOprNGfwEbeRWgbNEkqO",
    snonce: "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
    clientFinal:
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
    serverFinal: "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=",
  },
};

for (const [method, r] of Object.entries(RFC)) {
  test(`${method}: the RFC's example exchange, byte for byte`, () => {
    const keys = scramKeys(r.hash, "pencil", Buffer.from(r.salt, "base64"), 4096);
    const x = new ScramExchange(
      method as keyof typeof RFC,
      (u) => (u === "user" ? keys : null),
      () => r.snonce,
    );
    const first = x.first(Buffer.from(`n,,n=user,r=${r.cnonce}`));
    assert.deepEqual(first, {
      kind: "continue",
      data: Buffer.from(`r=${r.cnonce}${r.snonce},s=${r.salt},i=4096`),
    });
    const final = x.final(Buffer.from(r.clientFinal));
    assert.deepEqual(final, { kind: "success", data: Buffer.from(r.serverFinal), username: "user" });
    // and our test client computes the RFC's client-final from the same server-first
    const client = new ScramClient(r.hash, "user", "pencil", r.cnonce);
    assert.equal(client.final(first.kind === "continue" ? first.data.toString() : ""), r.clientFinal);
    assert.ok(client.verifies(r.serverFinal));
  });
}

function exchange(keys: (u: string) => ScramKeys | null, user: string, password: string) {
  const x = new ScramExchange("SCRAM-SHA-256", keys);
  const c = new ScramClient("sha256", user, password);
  const first = x.first(Buffer.from(c.first));
  assert.equal(first.kind, "continue");
  return x.final(Buffer.from(c.final(first.kind === "continue" ? first.data.toString() : "")));
}

test("a wrong password and an unknown user fail alike, at the proof", () => {
  const entry = scramEntry("s3cret");
  const keys = (u: string) => (u === "alice" ? parseScramEntry(entry, "sha256") : null);
  assert.equal(exchange(keys, "alice", "s3cret").kind, "success");
  assert.deepEqual(exchange(keys, "alice", "wrong"), { kind: "fail", reason: "Bad user name or password" });
  assert.deepEqual(exchange(keys, "mallory", "x"), { kind: "fail", reason: "Bad user name or password" });
  // the unknown user still got a salt and iterations, the same each time
  const a = new ScramExchange("SCRAM-SHA-256", keys).first(Buffer.from("n,,n=mallory,r=abc"));
  const b = new ScramExchange("SCRAM-SHA-256", keys).first(Buffer.from("n,,n=mallory,r=abc"));
  const salt = (s: typeof a) => (s.kind === "continue" ? /,s=([^,]+),/.exec(s.data.toString())?.[1] : "");
  assert.equal(salt(a), salt(b));
});

test("a client-final for another nonce, malformed messages and channel binding are refused", () => {
  const keys = scramKeys("sha256", "pw", Buffer.from("salt"), 4096);
  const x = new ScramExchange("SCRAM-SHA-256", () => keys);
  x.first(Buffer.from("n,,n=u,r=abc"));
  assert.equal(x.final(Buffer.from("c=biws,r=abcOTHER,p=AAAA")).kind, "fail");
  assert.equal(x.final(Buffer.from("c=biws,r=abc,p=AAAA")).kind, "fail", "no second final");
  assert.equal(new ScramExchange("SCRAM-SHA-256", () => keys).first(Buffer.from("garbage")).kind, "fail");
  assert.equal(
    new ScramExchange("SCRAM-SHA-256", () => keys).first(Buffer.from("p=tls-unique,,n=u,r=a")).kind,
    "fail",
  );
  assert.equal(new ScramExchange("SCRAM-SHA-256", () => keys).first(undefined).kind, "fail");
});

test("a $scram$ entry checks a plain password too, and holds no password", () => {
  const entry = scramEntry("correct horse");
  assert.match(entry, /^\$scram\$4096\$[^$]+\$[^$,]+,[^$,]+\$[^$,]+,[^$,]+$/);
  assert.ok(!entry.includes("correct"));
  assert.ok(verifyScramEntry(entry, "correct horse"));
  assert.ok(!verifyScramEntry(entry, "correct horsE"));
  assert.equal(parseScramEntry("$7$1$a$b", "sha1"), null);
});
