/**
 * A multi-core broker (`system.num_taskq_thread` > 1): the first worker (this thread) starts the
 * others as threads, each with a broker core of its own on the shared listeners (see relay.ts and
 * peering.ts). The first worker writes the pid file, handles signals, runs the bridges and writes
 * the log; it tells the others to reload and to stop.
 */
import { LOG_LEVELS, type LogLevel } from "../config/config.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { WorkerSeat, WorkerThread } from "../runtime/workers.ts";
import { PeerLink } from "../transport/peer_link.ts";
import { type BrokerLogger, byLevel } from "./logger.ts";
import type { Peers } from "./start_broker.ts";

/** How many workers the configuration asks for, and why it gets fewer. */
export function workerCount(n: number, rt: Runtime): { count: number; notice: string | null } {
  const count = Math.max(1, n);
  if (count === 1 || rt.workers !== null) return { count, notice: null };
  return {
    count: 1,
    notice:
      `system.num_taskq_thread = ${n}: under ${rt.name} ${rt.version} threads cannot share a listening ` +
      "port, so the broker runs one worker (the x86_64 and aarch64 binaries run several)",
  };
}

/** Tracks the start barrier: every worker has restored and announced its subscriptions. */
export function startBarrier(link: PeerLink): { peers: Peers; heard(from: number): void } {
  const heard = new Set<number>();
  let done: () => void = () => {};
  const all = new Promise<void>((r) => (done = r));
  return {
    peers: {
      link,
      ready() {
        for (let p = 0; p < link.count; p++) if (p !== link.self) link.control(p, { ready: 1 });
        if (heard.size === link.count - 1) done();
        return all;
      },
    },
    heard(from) {
      heard.add(from);
      if (heard.size === link.count - 1) done();
    },
  };
}

/** The other workers, as the first one runs them. */
export interface Workforce {
  readonly peers: Peers;
  /** Takes the other workers' reports and answers for the HTTP API's view (cluster_view.ts). */
  onView: (from: number, c: Record<string, unknown>) => boolean;
  /** Sends a control message to every other worker (the HTTP API's rules). */
  tell(c: Record<string, unknown>): void;
  /** Resolves once every other worker listens; rejects with the first one's start error. */
  listening(): Promise<void>;
  /** Resolves once every other worker has applied the reload (or logged why it could not). */
  reload(conf: string | undefined, values?: Record<string, unknown>): Promise<void>;
  /** Stops the other workers (their clients get DISCONNECT 0x8B, their stores are closed). */
  stop(): Promise<void>;
}

/** Starts `count - 1` worker threads running `start` with `args`. */
export function startWorkforce(
  rt: Runtime,
  count: number,
  args: string[],
  log: BrokerLogger,
  onLost: (why: string) => void,
): Workforce {
  const { seat, threads } = rt.workers!.start(count, { args });
  const link = new PeerLink(seat, log);
  const barrier = startBarrier(link);
  const up = new Set<number>();
  const down = new Set<number>();
  let stopping = false;
  let fail: (e: Error) => void = () => {};
  let listening: () => void = () => {};
  const started = new Promise<void>((res, rej) => [listening, fail] = [res, rej]);
  // reloads are one at a time (start.ts chains them): the answers come in order
  const reloads: { left: number; done: () => void }[] = [];
  const workforce: Workforce = {
    peers: barrier.peers,
    onView: () => false,
    tell(c) {
      for (let p = 1; p < count; p++) link.control(p, c);
    },
    listening: () => started,
    reload(conf, values = {}) {
      const applied = new Promise<void>((done) => reloads.push({ left: count - 1, done }));
      for (let p = 1; p < count; p++) link.control(p, { reload: conf ?? null, values });
      return applied;
    },
    async stop() {
      stopping = true;
      for (let p = 1; p < count; p++) link.control(p, { stop: 1 });
      for (let waited = 0; down.size < count - 1 && waited < 5000; waited += 50) await rt.sleep(50);
      await Promise.all(threads.map((t: WorkerThread) => t.terminate()));
      link.close();
    },
  };
  link.onControl = (from, c) => {
    if (workforce.onView(from, c)) return;
    if (c.ready !== undefined) barrier.heard(from);
    if (c.log !== undefined) log[c.log as LogLevel](String(c.m), c.id as string | undefined);
    if (c.failed !== undefined) fail(new Error(String(c.failed)));
    if (c.listening !== undefined && up.add(from).size === count - 1) listening();
    if (c.stopped !== undefined) down.add(from);
    if (c.reloaded !== undefined && reloads[0] !== undefined && --reloads[0].left === 0) {
      reloads.shift()!.done();
    }
  };
  threads.forEach((t, i) =>
    t.onExit((code) => {
      if (!stopping) onLost(`worker ${i + 1} ended (exit code ${code})`);
    })
  );
  return workforce;
}

/** A worker's log: lines at `level` and above go to the first worker, which writes the log. */
export function workerLogger(link: PeerLink, level: LogLevel): BrokerLogger {
  let min = LOG_LEVELS.indexOf(level);
  const at = (l: LogLevel) => (m: string, id?: string): void => {
    if (LOG_LEVELS.indexOf(l) >= min) link.control(0, { log: l, m: `worker ${link.self}: ${m}`, id });
  };
  return {
    ...byLevel(at),
    configure(s) {
      min = LOG_LEVELS.indexOf(s.level);
    },
    close() {},
  };
}

/** This thread's seat, when it is a worker that startWorkforce() started. */
export function workerSeat(rt: Runtime): WorkerSeat | null {
  return rt.workers?.seat() ?? null;
}
