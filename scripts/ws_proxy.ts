/**
 * For `bench --ws`: mqttload speaks MQTT over TCP, so this proxy, pinned to the load generator's
 * core, accepts its TCP connections and carries each over a WebSocket (subprotocol mqtt) to a
 * broker, with backpressure both ways.
 *
 *   bun scripts/ws_proxy.ts LISTEN_PORT=ws://HOST:PORT/PATH [...]
 */
import net from "node:net";
import process from "node:process";
import WebSocket from "ws";

for (const arg of process.argv.slice(2)) {
  const [port, url] = arg.split("=") as [string, string];
  net.createServer({ noDelay: true }, (tcp) => {
    tcp.pause();
    const ws = new WebSocket(url, "mqtt", { perMessageDeflate: false });
    ws.on("open", () => tcp.resume());
    tcp.on("data", (d) => {
      ws.send(d, { binary: true });
      if (ws.bufferedAmount > 1 << 20) {
        tcp.pause();
        const wait = (): void => {
          if (ws.bufferedAmount > 1 << 18) setTimeout(wait, 1);
          else tcp.resume();
        };
        setTimeout(wait, 1);
      }
    });
    ws.on("message", (d: Buffer) => {
      if (!tcp.write(d)) {
        ws.pause();
        tcp.once("drain", () => ws.resume());
      }
    });
    const end = (): void => {
      tcp.destroy();
      ws.terminate();
    };
    tcp.on("close", end);
    tcp.on("error", end);
    ws.on("close", end);
    ws.on("error", end);
  }).listen(Number(port), "127.0.0.1");
}
