/**
 * bench --rules: this broker with 10 rules on the benchmark's topics, with a webhook whose endpoint
 * hangs, and with one whose endpoint is down, beside this broker without them ("vs plain"). The
 * rules match every message and test a payload field (the payload is not JSON, so none passes):
 * what is measured is matching and evaluating them, not an action. Every webhook request is for
 * on_message_publish of every message.
 */
import { writeFileSync } from "node:fs";
import net from "node:net";
import process from "node:process";
import type { BrokerRun } from "./bench_brokers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const BENCH = `${ROOT}.bench`;

/** A port where connections are taken and never answered (the endpoint that hangs). */
const HANG_PORT = 18880;
/** A port nothing listens on (the endpoint that is down). */
const DOWN_PORT = 18881;

/** The runs of --rules, compared with `plain` (the name of this broker's plain run). */
export function rulesBrokers(plain: string): BrokerRun[] {
  const rules = Array.from(
    { length: 10 },
    (_, i) =>
      `    { sql = "SELECT topic, payload.v AS v FROM \\"bench/#\\" WHERE v > ${i} OR topic = 'none/${i}'", table = t${i} }`,
  );
  const run = (name: string, file: string, extra: string): BrokerRun => {
    const conf = `${BENCH}/${file}`;
    writeFileSync(conf, `listeners.tcp.bind = "127.0.0.1:18840"\n${extra}`);
    return {
      name,
      port: 18840,
      loadPort: 18840,
      cmd: `${process.execPath} ${ROOT}src/main.ts start --conf ${conf}`,
      vs: plain,
    };
  };
  const hook = (port: number) =>
    `webhook {\n  url = "http://127.0.0.1:${port}/hook"\n  events = [ { event = "on_message_publish" } ]\n}\n`;
  return [
    run(
      "this broker, 10 rules",
      "broker-rules.conf",
      `rules.sqlite {\n  path = "${BENCH}/rules.db"\n  rules = [\n${rules.join("\n")}\n  ]\n}\n`,
    ),
    run("this broker, webhook endpoint hangs", "broker-hook-hang.conf", hook(HANG_PORT)),
    run("this broker, webhook endpoint down", "broker-hook-down.conf", hook(DOWN_PORT)),
  ];
}

/** Starts the endpoint that takes connections and never answers; returns its closer. */
export function hangingEndpoint(): () => void {
  const open = new Set<net.Socket>();
  const server = net.createServer((s) => {
    open.add(s);
    s.on("error", () => {});
    s.on("close", () => open.delete(s));
  }).listen(HANG_PORT, "127.0.0.1");
  return () => {
    for (const s of open) s.destroy();
    server.close();
  };
}
