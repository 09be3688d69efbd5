/**
 * The client's side of SCRAM (RFC 5802) for the tests, checked against the RFCs' example exchanges
 * in test/auth/scram_test.ts: client-first, then client-final from the server-first, then the
 * server's signature to compare with the server-final.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";

export class ScramClient {
  readonly first: string;
  private readonly bare: string;
  private expected = "";

  constructor(
    private readonly hash: "sha1" | "sha256",
    user: string,
    private readonly password: string,
    nonce = randomBytes(18).toString("base64"),
  ) {
    this.bare = `n=${user.replaceAll("=", "=3D").replaceAll(",", "=2C")},r=${nonce}`;
    this.first = `n,,${this.bare}`;
  }

  /** The client-final message for the server-first `serverFirst`. */
  final(serverFirst: string): string {
    const f = Object.fromEntries(serverFirst.split(",").map((kv) => [kv[0], kv.slice(2)]));
    const salted = pbkdf2Sync(
      this.password,
      Buffer.from(f.s!, "base64"),
      Number(f.i),
      this.hash === "sha1" ? 20 : 32,
      this.hash,
    );
    const clientKey = createHmac(this.hash, salted).update("Client Key").digest();
    const storedKey = createHash(this.hash).update(clientKey).digest();
    const withoutProof = `c=biws,r=${f.r}`;
    const authMessage = `${this.bare},${serverFirst},${withoutProof}`;
    const signature = createHmac(this.hash, storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]!));
    const serverKey = createHmac(this.hash, salted).update("Server Key").digest();
    this.expected = `v=${createHmac(this.hash, serverKey).update(authMessage).digest("base64")}`;
    return `${withoutProof},p=${proof.toString("base64")}`;
  }

  /** Whether the server-final proves the server knows the user's keys. */
  verifies(serverFinal: string): boolean {
    return this.expected !== "" && serverFinal === this.expected;
  }
}
