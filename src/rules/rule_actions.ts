/**
 * An action spec (`{name, params}`, as NanoMQ's configuration and HTTP API give it) made into a
 * running action, its parameters checked: repub, sqlite, webhook.
 */
import type { Logger } from "../broker/deps.ts";
import type { HttpRequester } from "../runtime/http_client.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { SqliteDatabase } from "../runtime/sqlite.ts";
import { HttpDelivery } from "../webhook/http_delivery.ts";
import { isValidTopicName } from "../protocol/topic.ts";
import { RepubAction, type RepubOptions } from "./repub_action.ts";
import type { ActionSpec, RuleAction, RuleDef } from "./rule_engine.ts";
import { checkTableName, SqliteAction } from "./sqlite_action.ts";
import type { CompiledRule } from "./rule_compile.ts";

/** A parameter an action cannot work with. */
export class RuleActionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RuleActionError";
  }
}

/** What the actions need. */
export interface ActionDeps {
  rt: Runtime;
  log: Logger;
  /** The database file at `path`, opened once and shared. */
  sqlite(path: string): SqliteDatabase;
  /** `rules.sqlite.path`: where sqlite actions without a path store. */
  sqlitePath: string;
  http: HttpRequester;
  /** Publishes into this broker (repub without a server). */
  publish(topic: string, payload: Buffer): void;
  /** This worker's number, appended to repub client identifiers beyond the first worker. */
  worker: number;
}

const str = (p: Record<string, unknown>, k: string): string | undefined =>
  p[k] === undefined || p[k] === null ? undefined : String(p[k]);

/** An action's parameters, checked. */
export type CheckedAction =
  | { name: "sqlite"; table: string; path: string }
  | { name: "repub"; opts: RepubOptions }
  | { name: "webhook"; url: string; headers: Record<string, string> };

/** Checks the parameters of action `a` of rule `def` without starting anything; throws RuleActionError naming the bad one. */
export function checkRuleAction(
  a: ActionSpec,
  def: RuleDef,
  d: Pick<ActionDeps, "sqlitePath" | "worker">,
): CheckedAction {
  const p = a.params ?? {};
  const where = `${def.id}, action ${a.name}`;
  switch (a.name) {
    case "sqlite": {
      const table = str(p, "table") ?? "";
      const bad = checkTableName(table);
      if (bad !== null) throw new RuleActionError(`${where}: params.table: ${bad}`);
      return { name: "sqlite", table, path: str(p, "path") ?? d.sqlitePath };
    }
    case "repub":
      return { name: "repub", opts: _repub(p, def, d.worker, where) };
    case "webhook": {
      const url = str(p, "url") ?? "";
      if (!/^https?:\/\//.test(url)) {
        throw new RuleActionError(`${where}: params.url "${url}" is not an http(s) URL`);
      }
      return {
        name: "webhook",
        url,
        headers: { "content-type": "application/json", ...(p.headers ?? {}) as Record<string, string> },
      };
    }
    default:
      throw new RuleActionError(
        `${where}: unknown action "${(a as { name: string }).name}"; actions are repub, sqlite, webhook`,
      );
  }
}

/** Starts the action `a` of a rule; throws RuleActionError naming the bad parameter. */
export function makeRuleAction(
  a: ActionSpec,
  { def, compiled }: { def: RuleDef; compiled: CompiledRule },
  d: ActionDeps,
): RuleAction {
  const c = checkRuleAction(a, def, d);
  switch (c.name) {
    case "sqlite":
      return new SqliteAction(openRuleDb(d, c.path, `${def.id}, action sqlite`), c.table, compiled, d.log);
    case "repub":
      return new RepubAction(d.rt, c.opts, (t, b) => d.publish(t, b), d.log);
    case "webhook": {
      const delivery = new HttpDelivery(
        {
          name: `Rule ${def.id} webhook`,
          url: c.url,
          headers: c.headers,
          concurrency: 8,
          queueMax: 10_000,
          timeoutMs: 5000,
          maxRetries: 3,
        },
        d.http,
        d.log,
      );
      return {
        name: "webhook",
        get counters() {
          const n = delivery.counters;
          return { ok: n.sent, failed: n.failed, dropped: n.dropped };
        },
        run: (out) => void delivery.post(JSON.stringify(out)),
        close: () => delivery.close(),
      };
    }
  }
}

/** The database file at `path` (opened once, shared); an error names the rule. */
export function openRuleDb(d: Pick<ActionDeps, "sqlite">, path: string, where: string): SqliteDatabase {
  try {
    return d.sqlite(path);
  } catch (e) {
    throw new RuleActionError(`${where}: cannot open ${path}: ${(e as Error).message}`);
  }
}

function _repub(p: Record<string, unknown>, def: RuleDef, worker: number, where: string): RepubOptions {
  const topic = str(p, "topic") ?? "";
  if (!isValidTopicName(topic)) {
    throw new RuleActionError(`${where}: params.topic "${topic}" is not a topic name`);
  }
  const server = str(p, "server") ?? str(p, "address") ?? "";
  if (server !== "" && !/^(mqtt-tcp|tls\+mqtt-tcp|mqtt|mqtts|tcp|ssl|tls):\/\//.test(server)) {
    throw new RuleActionError(
      `${where}: params.server "${server}" is not mqtt-tcp://host:port (or tls+mqtt-tcp://)`,
    );
  }
  const v = Number(p.proto_ver ?? 4);
  if (v !== 3 && v !== 4 && v !== 5) {
    throw new RuleActionError(`${where}: params.proto_ver must be 3, 4 or 5`);
  }
  const keepalive = Number(p.keepalive ?? 60);
  if (!(keepalive >= 0 && keepalive <= 65535)) {
    throw new RuleActionError(`${where}: params.keepalive must be 0 to 65535 s`);
  }
  const id = str(p, "clientid") ??
    `repub-${def.id.replace(":", "-")}-${Math.random().toString(36).slice(2, 8)}`;
  return {
    server,
    topic,
    protoVer: v as 3 | 4 | 5,
    clientId: worker === 0 ? id : `${id}-w${worker}`,
    keepaliveMs: keepalive * 1000,
    clean: p.clean_start !== false && p.clean_start !== "false",
    username: str(p, "username") ?? null,
    password: str(p, "password") ?? null,
  };
}
