/** JSON Web Tokens for the tests of the HTTP API's JWT authentication. */
import { createHmac } from "node:crypto";

/** A token of `header` and `claims`, signed by `signer` over `header.claims`. */
export function jwt(header: object, claims: object, signer: (data: Buffer) => Buffer): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const data = `${enc(header)}.${enc(claims)}`;
  return `${data}.${signer(Buffer.from(data)).toString("base64url")}`;
}

/** An HS256 signer with `secret`. */
export const hs256 = (secret: string | Buffer) => (d: Buffer) =>
  createHmac("sha256", secret).update(d).digest();
