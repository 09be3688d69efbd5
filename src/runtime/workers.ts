/**
 * Worker threads of a multi-core broker: every worker runs the program's main module again, with
 * a channel to each of the others (a full mesh, so that nothing is relayed through a third).
 */
import { isMainThread, MessageChannel, type MessagePort, Worker, workerData } from "node:worker_threads";

/** A channel to one other worker. Messages arrive in the order they were posted. */
export interface PeerChannel {
  post(message: unknown, transfer: ArrayBuffer[]): void;
  onMessage(fn: (message: unknown) => void): void;
  close(): void;
}

/** This thread's place among the workers. */
export interface WorkerSeat {
  readonly index: number;
  readonly count: number;
  /** By worker index; null at this worker's own index. */
  readonly channels: (PeerChannel | null)[];
  /** What the first worker gave every other one at start. */
  readonly data: unknown;
}

/** A started worker thread. */
export interface WorkerThread {
  /** Called once when the thread ends, with its exit code. */
  onExit(fn: (code: number) => void): void;
  terminate(): Promise<void>;
}

/** Starting workers (from the first one), or finding out that this thread is one. */
export interface Workers {
  /** Starts `count - 1` threads; the caller is worker 0. */
  start(count: number, data: unknown): { seat: WorkerSeat; threads: WorkerThread[] };
  /** This thread's seat when it is a worker that start() made, else null. */
  seat(): WorkerSeat | null;
}

const MARK = "brokerWorker";

/** A MessageChannel between every two of `count` workers: [i][j] is i's end of the one to j. */
export function meshPorts(count: number): (MessagePort | null)[][] {
  const ports: (MessagePort | null)[][] = Array.from({ length: count }, () => Array(count).fill(null));
  for (let i = 0; i < count; i++) {
    for (let j = i + 1; j < count; j++) {
      const ch = new MessageChannel();
      ports[i]![j] = ch.port1;
      ports[j]![i] = ch.port2;
    }
  }
  return ports;
}

/** A worker's end of a channel, as PeerLink uses it. */
export function channelOf(port: MessagePort): PeerChannel {
  return {
    post: (m, transfer) => port.postMessage(m, transfer),
    onMessage: (fn) => port.on("message", fn),
    close: () => port.close(),
  };
}

/** Workers that run `entry` (a module URL or path). */
export function createWorkers(entry: string): Workers {
  return {
    start(count, data) {
      const ports = meshPorts(count);
      const threads: WorkerThread[] = [];
      for (let i = 1; i < count; i++) {
        const mine = ports[i]!;
        const w = new Worker(new URL(entry), {
          workerData: { [MARK]: true, index: i, count, ports: mine, data },
          transferList: mine.filter((p): p is MessagePort => p !== null),
        });
        threads.push({
          onExit: (fn) => void w.once("exit", fn),
          terminate: async () => void await w.terminate(),
        });
      }
      return { seat: _seat(0, count, data, ports[0]!), threads };
    },
    seat() {
      const d = workerData as Record<string, unknown> | null;
      if (isMainThread || d === null || d[MARK] !== true) return null;
      return _seat(d.index as number, d.count as number, d.data, d.ports as (MessagePort | null)[]);
    },
  };
}

function _seat(index: number, count: number, data: unknown, ports: (MessagePort | null)[]): WorkerSeat {
  return { index, count, data, channels: ports.map((p) => p === null ? null : channelOf(p)) };
}
