/**
 * The brokers scripts/bench.ts compares and what runs beside them: Mosquitto and this broker with
 * their configuration files, the load generator (mqttload, compiled into .bench/), and the stunnel
 * (--tls) or WebSocket proxy (--ws) on the load generator's core.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import process from "node:process";
import { makeTestCerts, type TestCerts } from "../test/helpers/certs.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const BENCH = `${ROOT}.bench`;

export function loadGenerator(persist: boolean): string[] {
  const src = `${ROOT}../shared/tools/mqttload/mqttload.c`;
  const bin = `${BENCH}/mqttload`;
  if (existsSync(src)) {
    execFileSync("gcc", ["-O2", "-o", bin, persist ? _persistentSubscribers(src) : src, "-lpthread"], {
      stdio: "inherit",
    });
    return [bin];
  }
  console.error(
    "../shared/tools/mqttload not found: using scripts/bench_load.ts (slower; figures are not comparable)",
  );
  return [process.execPath, `${ROOT}scripts/bench_load.ts`, ...(persist ? ["--persistent"] : [])];
}

/**
 * mqttload opens every connection with Clean Session 1, so no message would ever need storing.
 * For --persist its subscribers connect with Clean Session 0 instead: a copy of the source with
 * that one line changed, compiled into .bench/. Publishers keep clean sessions.
 */
function _persistentSubscribers(src: string): string {
  const line = "uint8_t flags = 0x02; /* clean session / clean start */";
  const text = readFileSync(src, "utf8");
  if (text.split(line).length !== 2) {
    throw new Error(
      `${src}: the CONNECT flags line changed; update _persistentSubscribers in scripts/bench_brokers.ts`,
    );
  }
  const out = `${BENCH}/mqttload-persistent.c`;
  writeFileSync(out, text.replace(line, "uint8_t flags = c->role == R_SUB ? 0x00 : 0x02;"));
  return out;
}

export interface BrokerRun {
  name: string;
  /** Where the broker listens (TLS port in --tls mode). */
  port: number;
  /** Where mqttload connects: the broker, or the stunnel in front of it. */
  loadPort: number;
  cmd: string;
  /** Another run of this broker it is compared with, in a column of its own (--persist, --acl). */
  vs?: string;
}

/** Empty persistence folders before each broker start (--persist); Mosquitto's user must write its own. */
export function freshStores(): void {
  for (const d of ["store", "mosquitto-store"]) {
    rmSync(`${BENCH}/${d}`, { recursive: true, force: true });
    mkdirSync(`${BENCH}/${d}`, { recursive: true });
    chmodSync(`${BENCH}/${d}`, 0o777);
  }
}

export function brokers(
  certs: TestCerts | null,
  o: { persist: boolean; ws: boolean; acl: boolean; flashmq: string | undefined; workers: number },
): BrokerRun[] {
  const mosqConf = `${BENCH}/mosquitto.conf`;
  const ourConf = `${BENCH}/broker.conf`;
  const tlsMosq = certs === null
    ? ""
    : `listener 18831 127.0.0.1\ncertfile ${certs.certFile}\nkeyfile ${certs.keyFile}\n`;
  const wsMosq = o.ws ? "listener 18833 127.0.0.1\nprotocol websockets\n" : "";
  writeFileSync(
    mosqConf,
    `listener 18830 127.0.0.1\n${tlsMosq}${wsMosq}allow_anonymous true\n${
      o.persist ? `persistence true\npersistence_location ${BENCH}/mosquitto-store/\n` : "persistence false\n"
    }log_dest none\n`,
  );
  const tlsOurs = certs === null
    ? ""
    : `listeners.ssl {\n  bind = "127.0.0.1:18841"\n  keyfile = "${certs.keyFile}"\n  certfile = "${certs.certFile}"\n}\n`;
  const wsOurs = o.ws ? 'listeners.ws.bind = "127.0.0.1:18843/mqtt"\n' : "";
  writeFileSync(
    ourConf,
    `listeners.tcp.bind = "127.0.0.1:18840"\n${tlsOurs}${wsOurs}system.num_taskq_thread = ${o.workers}\n`,
  );
  const mosq = existsSync("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";
  const tls = certs !== null;
  return [
    {
      name: "Mosquitto",
      port: tls ? 18831 : 18830,
      loadPort: tls ? 18832 : o.ws ? 18834 : 18830,
      cmd: `${mosq} -c ${mosqConf}`,
    },
    {
      name: o.persist
        ? "this broker, memory"
        : o.workers > 1
        ? `this broker, ${o.workers} workers`
        : "this broker",
      port: tls ? 18841 : 18840,
      loadPort: tls ? 18842 : o.ws ? 18844 : 18840,
      cmd: `${process.execPath} ${ROOT}src/main.ts start --conf ${ourConf}`,
      ...(o.workers > 1 ? { vs: "this broker, 1 worker" } : {}),
    },
    ...(o.flashmq === undefined ? [] : [_flashmq(o.flashmq, o.workers)]),
    ...(o.workers > 1 ? [_oneWorker()] : []),
    ...(o.persist ? [_sqliteBroker()] : []),
    ...(o.acl ? [_aclBroker()] : []),
  ];
}

/**
 * FlashMQ (built by ../shared/peers/build-flashmq.sh) with one thread, for a one-core comparison,
 * and the in-flight limit raised so that its default does not drop QoS 1/2 floods.
 */
function _flashmq(bin: string, threads: number): BrokerRun {
  if (!existsSync(bin)) {
    throw new Error(`--flashmq ${bin}: no such file; build it with ../shared/peers/build-flashmq.sh`);
  }
  const conf = `${BENCH}/flashmq.conf`;
  rmSync(`${BENCH}/flashmq-store`, { recursive: true, force: true });
  mkdirSync(`${BENCH}/flashmq-store`, { recursive: true });
  writeFileSync(
    conf,
    `thread_count ${threads}\nallow_anonymous true\nstorage_dir ${BENCH}/flashmq-store\nlog_file ${BENCH}/flashmq.log\n` +
      "max_qos_msg_pending_per_client 65535\nlisten {\n  protocol mqtt\n  port 18850\n  inet4_bind_address 127.0.0.1\n}\n",
  );
  return { name: "FlashMQ", port: 18850, loadPort: 18850, cmd: `${bin} --config-file ${conf}` };
}

/** This broker with one worker, on the same cores as the multi-core runs, for the scaling figure. */
function _oneWorker(): BrokerRun {
  const conf = `${BENCH}/broker-1.conf`;
  writeFileSync(conf, 'listeners.tcp.bind = "127.0.0.1:18870"\n');
  return {
    name: "this broker, 1 worker",
    port: 18870,
    loadPort: 18870,
    cmd: `${process.execPath} ${ROOT}src/main.ts start --conf ${conf}`,
  };
}

/**
 * This broker with an hmq ACL of 50 rules, `no_match = deny`: 48 subscribe denials on other
 * topics that every check walks through, one on bench/+/x/# (which the subscribers to bench/# of
 * scenario i overlap), then one rule allowing everything.
 */
function _aclBroker(): BrokerRun {
  const acl = `${BENCH}/acl.conf`;
  const rules = Array.from({ length: 48 }, (_, i) => `deny clientid * sub other${i}/+/x/#`);
  rules.push("deny clientid * sub bench/+/x/#");
  writeFileSync(acl, `${rules.join("\n")}\nallow clientid * pubsub #\n`);
  const conf = `${BENCH}/broker-acl.conf`;
  writeFileSync(
    conf,
    `listeners.tcp.bind = "127.0.0.1:18840"\nauth {\n  no_match = deny\n  acl_file = "${acl}"\n}\n`,
  );
  return {
    name: "this broker, ACL of 50 rules",
    port: 18840,
    loadPort: 18840,
    cmd: `${process.execPath} ${ROOT}src/main.ts start --conf ${conf}`,
    vs: "this broker",
  };
}

/** This broker with `sqlite { }` on a database that start() empties before each run. */
function _sqliteBroker(): BrokerRun {
  const conf = `${BENCH}/broker-sqlite.conf`;
  writeFileSync(
    conf,
    `listeners.tcp.bind = "127.0.0.1:18840"\nsqlite {\n  mounted_file_path = "${BENCH}/store"\n}\n`,
  );
  return {
    name: "this broker, sqlite",
    port: 18840,
    loadPort: 18840,
    vs: "this broker, memory",
    cmd: `${process.execPath} ${ROOT}src/main.ts start --conf ${conf}`,
  };
}

/** Test certificates that Mosquitto can read after it drops root for its own user. */
export function readableCerts(): TestCerts {
  const certs = makeTestCerts();
  chmodSync(certs.dir, 0o755);
  for (const f of readdirSync(certs.dir)) chmodSync(`${certs.dir}/${f}`, 0o644);
  return certs;
}

/** One stunnel client per broker, on the load generator's core: plain MQTT in, TLS out. */
export function startStunnel(list: BrokerRun[]): ChildProcess {
  const conf = [
    "foreground = yes",
    "pid =",
    "syslog = no",
    "debug = 0",
    ...list.flatMap((
      b,
    ) => [
      `[${b.port}]`,
      "client = yes",
      `accept = 127.0.0.1:${b.loadPort}`,
      `connect = 127.0.0.1:${b.port}`,
    ]),
  ].join("\n");
  writeFileSync(`${BENCH}/stunnel.conf`, conf + "\n");
  return spawn("bash", ["-c", `ulimit -n 65536; exec taskset -c 1 stunnel ${BENCH}/stunnel.conf`], {
    stdio: "ignore",
  });
}

/** The TCP-to-WebSocket proxy for --ws, on the load generator's core. */
export function startWsProxy(): ChildProcess {
  const routes = ["18834=ws://127.0.0.1:18833/mqtt", "18844=ws://127.0.0.1:18843/mqtt"];
  return spawn("taskset", ["-c", "1", process.execPath, `${ROOT}scripts/ws_proxy.ts`, ...routes], {
    stdio: "ignore",
  });
}
