/**
 * A TCP proxy in front of an upstream broker that a test can cut (close every connection and refuse
 * new ones), blackhole (keep connections open but forward nothing either way) and restore.
 */
import net from "node:net";

export interface TcpProxy {
  readonly port: number;
  /** Closes every connection; new ones are closed at once until restore(). */
  cut(): void;
  /** Stops forwarding in both directions without closing anything, until restore(). */
  blackhole(): void;
  restore(): void;
  /** Bytes forwarded toward the target so far. */
  bytesUp(): number;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port to 127.0.0.1:`target`. */
export function startTcpProxy(target: number): Promise<TcpProxy> {
  let mode: "open" | "cut" | "blackhole" = "open";
  const pairs = new Set<[net.Socket, net.Socket]>();
  let up = 0;
  const server = net.createServer((client) => {
    if (mode === "cut") return void client.destroy();
    const server = net.connect(target, "127.0.0.1");
    const pair: [net.Socket, net.Socket] = [client, server];
    pairs.add(pair);
    const relay = (from: net.Socket, to: net.Socket) =>
      from.on("data", (d) => {
        if (mode !== "open") return;
        if (to === server) up += d.length;
        to.write(d);
      });
    relay(client, server);
    relay(server, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    for (const s of pair) {
      s.on("error", end);
      s.on("close", end);
    }
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        cut() {
          mode = "cut";
          for (const [a, b] of pairs) {
            a.destroy();
            b.destroy();
          }
        },
        blackhole() {
          mode = "blackhole";
        },
        restore() {
          mode = "open";
        },
        bytesUp: () => up,
        close() {
          for (const [a, b] of pairs) {
            a.destroy();
            b.destroy();
          }
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}
