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
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port to 127.0.0.1:`target`. */
export function startTcpProxy(target: number): Promise<TcpProxy> {
  let mode: "open" | "cut" | "blackhole" = "open";
  const pairs = new Set<[net.Socket, net.Socket]>();
  const server = net.createServer((client) => {
    if (mode === "cut") return void client.destroy();
    const up = net.connect(target, "127.0.0.1");
    const pair: [net.Socket, net.Socket] = [client, up];
    pairs.add(pair);
    const relay = (from: net.Socket, to: net.Socket) =>
      from.on("data", (d) => {
        if (mode === "open") to.write(d);
      });
    relay(client, up);
    relay(up, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      up.destroy();
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
