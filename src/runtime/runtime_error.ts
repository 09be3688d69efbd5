/** A failure of an operating-system service, by kind, with a message that says what to do. */
export class RuntimeError extends Error {
  constructor(
    /**
     * connect: an outgoing connection; http: an HTTP request; sqlite: no embedded SQLite; input:
     * reading a secret; runtime: the wrong runtime.
     */
    readonly kind: "connect" | "http" | "sqlite" | "input" | "runtime",
    message: string,
  ) {
    super(message);
    this.name = "RuntimeError";
  }
}
