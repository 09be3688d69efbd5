import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createAuth } from "../../src/auth/create_auth.ts";
import { hashPassword, verifyHash } from "../../src/auth/password_hash.ts";
import { run } from "../helpers/run.ts";

const who = (username?: string) => ({ clientId: "c", username, ip: "127.0.0.1" });
const pw = (s: string) => Buffer.from(s);

describe("password hashes", () => {
  test("PBKDF2 ($7$) and scrypt hashes verify the right password only", async () => {
    for (const algo of ["pbkdf2", "scrypt"] as const) {
      const h = await hashPassword("s3cret", algo);
      assert.match(h, algo === "pbkdf2" ? /^\$7\$10000\$/ : /^\$scrypt\$ln=14,r=8,p=1\$/);
      assert.equal(await verifyHash(h, "s3cret"), true);
      assert.equal(await verifyHash(h, "s3cret "), false);
    }
    assert.equal(await verifyHash("$7$x$y$z", "a"), false, "a malformed hash never verifies");
  });

  test("a hash written by Debian's mosquitto_passwd verifies", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "pw-")), "pw");
    const r = await run("mosquitto_passwd", ["-c", "-b", file, "alice", "wonder land"]).done;
    assert.equal(r.code, 0, r.stderr);
    const hash = readFileSync(file, "utf8").trim().split(":")[1]!;
    assert.match(hash, /^\$7\$/);
    assert.equal(await verifyHash(hash, "wonder land"), true);
    assert.equal(await verifyHash(hash, "wonderland"), false);
  });
});

describe("authenticate", () => {
  const RC_BAD = 0x86;
  const RC_NOT_AUTHORIZED = 0x87;

  test("anonymous clients depend on allow_anonymous; listed users need their password", () => {
    const base = {
      passwords: { admin: "public" },
      rules: [],
      noMatch: "allow" as const,
      denyAction: "ignore" as const,
    };
    const open = createAuth({ ...base, allowAnonymous: true });
    const closed = createAuth({ ...base, allowAnonymous: false });
    assert.equal(open.authenticate(who(), undefined, false), 0);
    assert.equal(closed.authenticate(who(), undefined, false), RC_NOT_AUTHORIZED);
    assert.equal(closed.authenticate(who("admin"), pw("public"), false), 0);
    assert.equal(closed.authenticate(who("admin"), pw("publi"), false), RC_BAD);
    assert.equal(closed.authenticate(who("admin"), undefined, false), RC_BAD);
    assert.equal(
      open.authenticate(who("stranger"), pw("x"), false),
      RC_BAD,
      "an unlisted user name is refused",
    );
  });

  test("a hashed entry is checked off the event loop, then remembered for the same password", async () => {
    const auth = createAuth({
      allowAnonymous: false,
      passwords: { u: await hashPassword("pw1") },
      rules: [],
      noMatch: "allow",
      denyAction: "ignore",
    });
    const first = auth.authenticate(who("u"), pw("pw1"), false);
    assert.ok(first instanceof Promise);
    assert.equal(await first, 0);
    assert.equal(auth.authenticate(who("u"), pw("pw1"), false), 0, "known good: answered at once");
    assert.equal(await auth.authenticate(who("u"), pw("pw2"), false), RC_BAD);
  });
});
