/**
 * The rule engine: every client message whose topic a rule's FROM filter matches is tested against
 * its WHERE condition and, when it passes, the selected fields go to the rule's actions. Matching
 * is cached per topic; the statement is compiled once. Actions queue what they are given and never
 * make the broker wait (rule_actions.ts).
 */
import type { BrokerHooks } from "../broker/hooks.ts";
import type { Client, Message } from "../broker/state.ts";
import { topicMatches } from "../protocol/topic.ts";
import { type CompiledRule, compileRule, type RuleInput } from "./rule_compile.ts";

/** An action as configured: NanoMQ's `{name, params}`. */
export interface ActionSpec {
  name: "repub" | "sqlite" | "webhook";
  params: Record<string, unknown>;
}

/** A rule as configured or made through the HTTP API. */
export interface RuleDef {
  /** "rule:1", "rule:2", ... */
  id: string;
  rawsql: string;
  actions: ActionSpec[];
  description: string;
  enabled: boolean;
  /** Where it was defined: nanomq.conf, or the HTTP API (kept in the API rules file). */
  source: "config" | "api";
}

/** What an action counts. */
export interface ActionCounters {
  /** Outputs done (stored, published, posted). */
  ok: number;
  /** Outputs given up: refused by the database, upstream or the endpoint. */
  failed: number;
  /** Outputs not queued: the action's queue was full. */
  dropped: number;
}

/** One running action of a rule. */
export interface RuleAction {
  readonly name: string;
  readonly counters: ActionCounters;
  /** Takes one output; queues it and returns at once. */
  run(out: Record<string, unknown>, rule: CompiledRule, m: RuleInput): void;
  close(): void;
}

/** A running rule. */
export interface LiveRule {
  readonly def: RuleDef;
  readonly compiled: CompiledRule;
  readonly actions: RuleAction[];
  /** Messages its FROM matched, and those its WHERE let through. */
  matched: number;
  passed: number;
}

/** Cached topics at most; the cache is emptied when full or when the rules change. */
const CACHE_MAX = 10_000;

/** The engine of one broker core. */
export class RuleEngine {
  private rules: LiveRule[] = [];
  private readonly byTopic = new Map<string, LiveRule[]>();

  /** The hook it listens on: set it on the broker's hooks while there are rules. */
  readonly hooks: BrokerHooks = { publish: (m, c, id) => this._publish(m, c, id) };

  constructor(private readonly now: () => number) {}

  /** The running rules. */
  get live(): readonly LiveRule[] {
    return this.rules;
  }

  /** Replaces the rules; the actions of the rules it had and no longer has are closed. */
  set(rules: LiveRule[]): void {
    const kept = new Set(rules);
    for (const r of this.rules) if (!kept.has(r)) { for (const a of r.actions) a.close(); }
    this.rules = rules;
    this.byTopic.clear();
  }

  close(): void {
    this.set([]);
  }

  private _matching(topic: string): LiveRule[] {
    let list = this.byTopic.get(topic);
    if (list !== undefined) return list;
    list = this.rules.filter((r) => r.def.enabled && r.compiled.from.some((f) => topicMatches(f, topic)));
    if (this.byTopic.size >= CACHE_MAX) this.byTopic.clear();
    this.byTopic.set(topic, list);
    return list;
  }

  private _publish(m: Message, from: Client, packetId: number): void {
    const list = this._matching(m.topic);
    if (list.length === 0) return;
    const input: RuleInput = {
      topic: m.topic,
      qos: m.qos,
      id: packetId,
      clientid: from.session?.clientId ?? "",
      username: from.username,
      payload: m.payload,
      timestamp: Math.floor(this.now() / 1000),
      parsed: false,
      json: undefined,
    };
    for (const r of list) {
      r.matched++;
      if (!r.compiled.test(input)) continue;
      r.passed++;
      const out = r.compiled.select(input);
      for (const a of r.actions) a.run(out, r.compiled, input);
    }
  }
}

/** Compiles a rule's statement (throws RuleSqlError with the position) and starts its actions. */
export function liveRule(
  def: RuleDef,
  makeAction: (a: ActionSpec, rule: { def: RuleDef; compiled: CompiledRule }) => RuleAction,
): LiveRule {
  const compiled = compileRule(def.rawsql);
  const actions: RuleAction[] = [];
  try {
    for (const a of def.actions) actions.push(makeAction(a, { def, compiled }));
  } catch (e) {
    for (const a of actions) a.close();
    throw e;
  }
  return { def, compiled, actions, matched: 0, passed: 0 };
}
