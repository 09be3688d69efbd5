/** What every page of the dashboard is. */
import type { Json } from "./api.ts";
import type { Series } from "./charts.ts";

/** What a page reads on each refresh. */
export interface Ctx {
  /** /api/v4/metrics and /api/v4/brokers, as of this refresh. */
  metrics: Json;
  broker: Json;
  /** Messages in and out per second, and connections, over the last minutes. */
  rates: Series;
  conns: Series;
  /** Refresh now (when a filter changed). */
  refresh(): void;
  /** Shows what an action (kick, switch) answered when it failed, then refreshes. */
  act(work: Promise<unknown>): void;
}

/** A page: `mount` builds it once, `update` shows fresh data on each refresh. */
export interface View {
  title: string;
  mount(el: HTMLElement): void;
  update(ctx: Ctx): Promise<void>;
}
