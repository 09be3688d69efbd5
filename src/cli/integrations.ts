/**
 * Webhooks and the rule engine of one broker core: `webhook { }`, the rules of `rules { }` and
 * those made through the HTTP API, hooked into the broker. Built at start and again at each reload
 * (the API's rules stay); a rule of the configuration that does not compile stops the start.
 */
import type { Broker } from "../broker/broker.ts";
import type { BrokerHooks } from "../broker/hooks.ts";
import type { Logger } from "../broker/deps.ts";
import type { Config } from "../config/config.ts";
import { ConfigError } from "../config/config_error.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { SqliteDatabase } from "../runtime/sqlite.ts";
import { type ActionDeps, checkRuleAction, makeRuleAction, openRuleDb } from "../rules/rule_actions.ts";
import { compileRule } from "../rules/rule_compile.ts";
import { type LiveRule, liveRule, type RuleDef, RuleEngine } from "../rules/rule_engine.ts";
import { HttpDelivery } from "../webhook/http_delivery.ts";
import { webhookHooks } from "../webhook/webhook.ts";
import type { Settings } from "./load_settings.ts";
import { readClientTls } from "./read_config_file.ts";

/** The running webhook and rules of one core. */
export interface Integrations {
  webhook: HttpDelivery | null;
  readonly engine: RuleEngine;
  /** The rules made through the HTTP API, as they are now. */
  apiRules: RuleDef[];
  /** Rebuilds the webhook and the configuration's rules from reloaded settings. */
  reconfigure(st: Settings): Promise<void>;
  /** Replaces the API rules; one that no longer builds is logged and left out. */
  setApiRules(defs: RuleDef[]): void;
  /** Checks a rule without starting it: throws RuleSqlError or RuleActionError. */
  check(def: RuleDef): void;
  close(): void;
}

/** Starts them on `broker`, whose deps were given `hooks`. */
export async function startIntegrations(
  rt: Runtime,
  st: Settings,
  [broker, hooks]: [Broker, BrokerHooks],
  log: Logger,
  worker: number,
): Promise<Integrations> {
  const dbs = new Map<string, SqliteDatabase>();
  const engine = new RuleEngine(rt.now);
  const http = rt.httpClient(32);
  let cfg = st.loaded.config;
  let configRules: LiveRule[] = [];
  let apiLive: LiveRule[] = [];
  let built = "";
  const deps = (): ActionDeps => ({
    rt,
    log,
    http,
    worker,
    sqlitePath: cfg.rules?.sqlite?.path ?? "/tmp/sqlite_rule.db",
    sqlite: (path) => {
      let db = dbs.get(path);
      if (db === undefined) {
        db = rt.openSqlite(path);
        db.exec("PRAGMA journal_mode = WAL");
        dbs.set(path, db);
      }
      return db;
    },
    publish: (topic, payload) => broker.publish(topic, payload, { qos: 0 }),
  });
  const build = (def: RuleDef) => liveRule(def, (a, rule) => makeRuleAction(a, rule, deps()));
  const it: Integrations = {
    webhook: null,
    engine,
    apiRules: [],
    async reconfigure(next) {
      const nextCfg = next.loaded.config;
      // unchanged, nothing is rebuilt: repub connections and queued rows carry on
      const key = JSON.stringify([nextCfg.webhook, nextCfg.rules]);
      if (key === built) return;
      const fresh = configRuleDefs(nextCfg).map((d) => _built(build, d, next.loaded.source));
      const webhook = await _webhook(rt, nextCfg, next.loaded.source, log);
      it.webhook?.close();
      it.webhook = webhook;
      cfg = nextCfg;
      built = key;
      configRules = fresh;
      _apply(
        engine,
        [configRules, apiLive],
        hooks,
        webhook === null ? [] : [webhookHooks(_events(cfg), webhook)],
      );
    },
    setApiRules(defs) {
      const live: LiveRule[] = [];
      const had = new Map(apiLive.map((r) => [r.def.id, r]));
      for (const d of defs) {
        const old = had.get(d.id);
        // an unchanged rule keeps running as it is: its connections, queues and counters
        if (old !== undefined && JSON.stringify(old.def) === JSON.stringify(d)) {
          live.push(old);
          continue;
        }
        try {
          const r = build(d);
          if (old !== undefined) [r.matched, r.passed] = [old.matched, old.passed];
          live.push(r);
        } catch (e) {
          log.error(`Rule ${d.id} (made through the HTTP API) is left out: ${(e as Error).message}`);
        }
      }
      it.apiRules = defs;
      apiLive = live;
      _apply(
        engine,
        [configRules, apiLive],
        hooks,
        it.webhook === null ? [] : [webhookHooks(_events(cfg), it.webhook)],
      );
    },
    check(def) {
      compileRule(def.rawsql);
      const d = deps();
      for (const a of def.actions) {
        const c = checkRuleAction(a, def, d);
        if (c.name === "sqlite") openRuleDb(d, c.path, `${def.id}, action sqlite`);
      }
    },
    close() {
      it.webhook?.close();
      engine.close();
      _install(hooks, []);
      for (const db of dbs.values()) db.close();
    },
  };
  await it.reconfigure(st);
  return it;
}

function _built(build: (d: RuleDef) => LiveRule, d: RuleDef, source: string): LiveRule {
  try {
    return build(d);
  } catch (e) {
    throw new ConfigError(source, 0, `${d.description}`, (e as Error).message);
  }
}

/** The rules of `rules { }`, numbered rule:1, rule:2, ... in the order sqlite, repub, webhook. */
export function configRuleDefs(cfg: Config): RuleDef[] {
  const r = cfg.rules;
  if (r === null) return [];
  const out: RuleDef[] = [];
  const add = (key: string, sql: string, action: RuleDef["actions"][number]) =>
    out.push({
      id: `rule:${out.length + 1}`,
      rawsql: sql,
      actions: [action],
      description: key,
      enabled: true,
      source: "config",
    });
  r.sqlite?.rules.forEach((x, i) =>
    add(`rules.sqlite.rules[${i}].sql`, x.sql, { name: "sqlite", params: { table: x.table } })
  );
  r.repub?.rules.forEach((x, i) =>
    add(`rules.repub.rules[${i}].sql`, x.sql, {
      name: "repub",
      params: {
        server: x.server,
        topic: x.topic,
        proto_ver: x.proto_ver,
        clientid: x.clientid,
        keepalive: x.keepalive / 1000,
        clean_start: x.clean_start,
        username: x.username,
        password: x.password,
      },
    })
  );
  r.webhook?.rules.forEach((x, i) =>
    add(`rules.webhook.rules[${i}].sql`, x.sql, {
      name: "webhook",
      params: { url: x.url, headers: x.headers },
    })
  );
  return out;
}

/** Swaps the running rules and sets the broker's hooks to what listens now. */
function _apply(
  engine: RuleEngine,
  [config, api]: [LiveRule[], LiveRule[]],
  hooks: BrokerHooks,
  parts: BrokerHooks[],
): void {
  engine.set([...config, ...api]);
  _install(hooks, engine.live.length > 0 ? [...parts, engine.hooks] : parts);
}

/** Sets each hook of `target` to the one part that has it, or to a call of every part that has it. */
function _install(target: BrokerHooks, parts: BrokerHooks[]): void {
  const t = target as Record<string, unknown>;
  for (const k of Object.keys(t)) delete t[k];
  const keys = new Set(parts.flatMap((p) => Object.keys(p)));
  for (const k of keys) {
    const fns = parts.map((p) => (p as Record<string, unknown>)[k]).filter((f) => f !== undefined) as ((
      ...a: unknown[]
    ) => void)[];
    t[k] = fns.length === 1 ? fns[0] : (...a: unknown[]) => {
      for (const f of fns) f(...a);
    };
  }
}

function _events(cfg: Config) {
  const events = new Map<string, (string | null)[]>();
  for (const e of cfg.webhook?.events ?? []) {
    const list = events.get(e.event) ?? [];
    list.push(e.topic);
    events.set(e.event, list);
  }
  return { events, encoding: cfg.webhook?.body.encoding ?? "plain", now: Date.now };
}

async function _webhook(rt: Runtime, cfg: Config, source: string, log: Logger): Promise<HttpDelivery | null> {
  const w = cfg.webhook;
  if (w === null) return null;
  if (!/^https?:\/\//.test(w.url)) {
    throw new ConfigError(source, 0, "webhook.url", `"${w.url}" is not an http:// or https:// URL`);
  }
  const tls = w.url.startsWith("https:") ? await readClientTls(rt, w.ssl, "webhook.ssl", source) : undefined;
  return new HttpDelivery(
    {
      name: "Webhook",
      url: w.url,
      headers: { "content-type": "application/json", ...w.headers },
      ...(tls === undefined ? {} : { tls }),
      concurrency: w.pool_size,
      queueMax: w.max_queue_len,
      timeoutMs: w.timeout,
      maxRetries: w.max_retries,
    },
    rt.httpClient(w.pool_size),
    log,
  );
}
