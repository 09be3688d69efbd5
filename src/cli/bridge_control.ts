/**
 * A running bridge as the HTTP API sees and changes it. Changes (PUT bridges/{name}, bridges/sub,
 * bridges/unsub) are checked by loading the whole configuration with the bridge's section
 * replaced, exactly as a file would be, and last until the broker restarts: the file is not
 * written.
 */
import type { BridgeControl } from "../admin/api_types.ts";
import type { Bridge } from "../bridge/bridge.ts";
import { maskSecrets, SECRET_MASK } from "./api_settings.ts";
import { type Config, showConfig } from "../config/config.ts";
import type { Settings } from "./load_settings.ts";

type Section = Record<string, unknown>;

/**
 * `bridge` as the API's BridgeControl; `load` loads the configuration with `values` (dotted key
 * paths, a function value edits what is there) over the file and throws ConfigError.
 */
export function bridgeControl(
  bridge: Bridge,
  settings: () => Settings,
  load: (values: Record<string, unknown>) => Promise<Settings>,
): BridgeControl {
  const name = bridge.opts.name;
  const path = `bridges.mqtt.${name}`;
  /** The section as last changed through the API (as written, before validation); null: the file's. */
  let raw: Section | null = null;
  /** ... and the configuration it was validated in, for the view; null: the file's. */
  let loaded: Config | null = null;

  /** Loads the configuration with the section `edit` makes of the running one; the error, or null once applied. */
  async function change(edit: (running: Section) => Section, apply: (st: Settings, on: boolean) => void) {
    let next: Section = {};
    let st: Settings;
    try {
      // loaded as enabled, so that its options are built even when it is to be switched off
      st = await load({
        [path]: (fromFile: unknown) => ({ ...(next = edit(raw ?? _section(fromFile))), enable: true }),
      });
    } catch (e) {
      return (e as Error).message;
    }
    const on = next.enable !== false && next.enable !== "false";
    raw = next;
    loaded = st.loaded.config;
    loaded.bridges.mqtt!.named[name]!.enable = on;
    apply(st, on);
    return null;
  }

  const optionsIn = (st: Settings) => st.bridges.find((b) => b.name === name)!;

  return {
    name,
    get state() {
      return bridge.state;
    },
    config: () => {
      const all = showConfig(loaded ?? settings().loaded.config) as { bridges: { mqtt: Section } };
      return maskSecrets(all.bridges.mqtt[name] ?? {}) as Section;
    },
    status: () => ({
      ...bridge.cacheStatus(),
      forwarded: bridge.counters.forwarded,
      received: bridge.counters.received,
      aliasBytesSaved: bridge.counters.aliasSaved,
    }),
    setEnabled: (on) => (on ? bridge.switchOn() : bridge.switchOff()),
    update: (section) =>
      change(
        (running) => _unmask(section, running) as Section,
        (st, on) => bridge.reconfigure(optionsIn(st), on),
      ),
    subscribe: (rules, props) =>
      change(
        (running) => {
          const list = _list(running.subscription);
          for (const r of rules) {
            const i = list.findIndex((x) => x.remote_topic === r.remote_topic);
            // NanoMQ's qos is required in the file; the API takes 1 when it is not given, as NanoMQ's does
            const rule = { qos: 1, ...r };
            if (i >= 0) list[i] = rule;
            else list.push(rule);
          }
          return { ...running, subscription: list };
        },
        (st) => bridge.setSubscriptions(optionsIn(st).subscriptions, props),
      ),
    unsubscribe: (topics, props) =>
      change(
        (running) => ({
          ...running,
          subscription: _list(running.subscription).filter((s) => !topics.includes(String(s.remote_topic))),
        }),
        (st) => bridge.setSubscriptions(optionsIn(st).subscriptions, props),
      ),
  };
}

function _section(v: unknown): Section {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? v as Section : {};
}

function _list(v: unknown): Section[] {
  return Array.isArray(v) ? v.map(_section) : [];
}

/**
 * `given` with each secret that GET showed masked taken from `running` instead: a section read
 * from the API, changed and put back keeps its password.
 */
function _unmask(given: unknown, running: unknown): unknown {
  if (given === SECRET_MASK) return running;
  if (typeof given !== "object" || given === null || Array.isArray(given)) return given;
  const r = _section(running);
  return Object.fromEntries(Object.entries(given).map(([k, v]) => [k, _unmask(v, r[k])]));
}
