/** The state every packet handler works on. */
import type { AuthHooks } from "./auth_port.ts";
import type { BrokerDeps } from "./deps.ts";
import type { Journal } from "./journal.ts";
import type { Metrics } from "./metrics.ts";
import type { RetainedStore } from "./retained.ts";
import type { BrokerOptions } from "./options.ts";
import type { Client, Session } from "./state.ts";
import type { TopicTree } from "./topic_tree.ts";
import type { Peering } from "./peer_port.ts";
import type { BrokerHooks } from "./hooks.ts";
import type { LimitLog } from "./limits.ts";

/** The state shared by the packet handlers. */
export interface BrokerContext {
  opts: BrokerOptions;
  deps: BrokerDeps;
  sessions: Map<string, Session>;
  clients: Set<Client>;
  tree: TopicTree;
  retained: RetainedStore;
  metrics: Metrics;
  /** Sessions (offline or with a pending will) that tick() must look at. */
  timed: Set<Session>;
  /** Sessions holding publishers. */
  congested: Set<Session>;
  /** Null: everyone may connect, publish and subscribe. */
  auth: AuthHooks | null;
  /** Bumped when `auth` changes, to invalidate clients' cached ACL answers. */
  authGen: number;
  /** Where durable state is written (durable.ts), null without persistence. */
  journal: Journal | null;
  /** The journal refused the last message it was given (durable.ts). */
  storeFull: boolean;
  /** The other workers of a multi-core broker, null when this is the only one. */
  peering: Peering | null;
  /** Counts and logs what the limits refused. */
  limits: LimitLog;
  /** The events webhooks and rules listen to; methods set and cleared at run time. */
  hooks: BrokerHooks;
}
