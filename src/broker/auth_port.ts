/** What the broker asks of authentication and access control; src/auth supplies it. */

/** Who a connection is, for authentication and access control. */
export interface Identity {
  clientId: string;
  username: string | undefined;
  /** Remote IP address, without port. */
  ip: string;
  /** What HTTP authentication may pass on: the listener's port, the MQTT level, the certificate. */
  port?: number;
  protocol?: number;
  certCn?: string | undefined;
  certSubject?: string | undefined;
  /** Set by authentication for a superuser: access control lets them do anything. */
  superuser?: boolean;
}

/** The result of an ACL check: allowed or not, and the rule that decided ("" for no_match). */
export interface AclVerdict {
  allow: boolean;
  rule: string;
}

/** A step of an enhanced authentication exchange (MQTT 5 AUTH). */
export type AuthStep =
  | { kind: "continue"; data: Buffer }
  | { kind: "success"; data: Buffer; username: string }
  | { kind: "fail"; reason: string };

/** One client's enhanced authentication exchange: its first message, then each one after. */
export interface EnhancedAuth {
  first(data: Buffer | undefined): AuthStep;
  next(data: Buffer | undefined): AuthStep;
}

/** Authentication and access control, supplied by src/auth; replaced as a whole on reload. */
export interface AuthHooks {
  /**
   * 0 to accept a CONNECT, else its CONNACK reason code (MQTT 5 numbering); may answer later.
   * `byCertificate`: the user name is a verified client certificate's CN, so no password is needed.
   */
  authenticate(who: Identity, password: Buffer | undefined, byCertificate: boolean): number | Promise<number>;
  /**
   * May `who` publish to the topic (a will too), or subscribe to the filter as written? The
   * answer may come later (HTTP authentication's acl_req).
   */
  authorize(who: Identity, action: "publish" | "subscribe", topic: string): AclVerdict | Promise<AclVerdict>;
  /**
   * After a reload: what the rules say now about a subscription, null when only a later answer
   * (acl_req) could tell; the subscription then stays.
   */
  recheck(who: Identity, filter: string): AclVerdict | null;
  /** May `who` be delivered a message on the topic? Asked for every delivery, so answered at once. */
  authorizeRead(who: Identity, topic: string): AclVerdict;
  /**
   * A number shared by the identities that authorizeRead answers alike for every topic (the same
   * rules apply to them, placeholders filled in alike); never reused for another class.
   */
  readClass(who: Identity): number;
  /**
   * After a reload: may `who`, let in before, stay connected (their user still exists, anonymous
   * access is still on)? The password is not asked again. `byCertificate` as for authenticate.
   */
  stillAuthenticated(who: Identity, byCertificate: boolean): boolean;
  /**
   * An exchange for an MQTT 5 Authentication Method, null when the method is not offered (CONNACK
   * 0x8C). `offered` names the methods, for that refusal.
   */
  enhanced?(method: string): EnhancedAuth | null;
  readonly offered?: readonly string[];
  /** `auth.deny_action`: on a denial, carry on or close the connection with 0x87. */
  readonly denyAction: "ignore" | "disconnect";
}
