/**
 * The `sqlite` action: each output is a row of the rule's table, created as NanoMQ creates it
 * (`RowId INTEGER PRIMARY KEY AUTOINCREMENT`, then Qos, Id, Topic, Clientid, Username, Timestamp,
 * Payload as selected, INT or TEXT; a payload field gets a column named by its alias, added with
 * ALTER TABLE when its first value shows its type). Rows wait in a bounded queue and are written
 * together, one transaction each turn; a busy or locked database is tried again later.
 */
import type { Logger } from "../broker/deps.ts";
import type { SqliteDatabase, SqlValue } from "../runtime/sqlite.ts";
import type { CompiledRule, RuleInput } from "./rule_compile.ts";
import type { ActionCounters, RuleAction } from "./rule_engine.ts";

/** Rows waiting at most, per action; more are dropped and counted. */
const QUEUE_MAX = 10_000;
const RETRY_MS = 1000;
const LOG_EVERY_MS = 10_000;

const FIXED_TYPES: Record<string, "INT" | "TEXT"> = {
  qos: "INT",
  id: "INT",
  timestamp: "INT",
  topic: "TEXT",
  clientid: "TEXT",
  username: "TEXT",
  payload: "TEXT",
};

/** A table name NanoMQ's way of writing SQL can take, and ours quotes safely. */
export function checkTableName(table: string): string | null {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(table)
    ? null
    : `"${table}" is not a table name (letters, digits, _)`;
}

function _q(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Stores a rule's outputs into `table` of `db` (the database is shared by the rules that name its file). */
export class SqliteAction implements RuleAction {
  readonly name = "sqlite";
  readonly counters: ActionCounters = { ok: 0, failed: 0, dropped: 0 };
  private rows: SqlValue[][] = [];
  private columns: string[] | null = null;
  private known = new Set<string>();
  private scheduled = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastLog = 0;
  private closed = false;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly table: string,
    private readonly rule: CompiledRule,
    private readonly log: Logger,
  ) {
    const fixed = rule.columns.filter((c) => c.field === null);
    const cols = fixed.map((c) => `, ${_q(c.sqlName)} ${FIXED_TYPES[c.root]}`).join("");
    db.exec(`CREATE TABLE IF NOT EXISTS ${_q(table)} (RowId INTEGER PRIMARY KEY AUTOINCREMENT${cols})`);
    for (const r of db.prepare(`PRAGMA table_info(${_q(table)})`).all()) this.known.add(String(r.name));
  }

  run(out: Record<string, unknown>, rule: CompiledRule, m: RuleInput): void {
    if (this.closed) return;
    if (this.rows.length >= QUEUE_MAX) {
      this.counters.dropped++;
      return this._report(`${QUEUE_MAX} rows were waiting`);
    }
    const row: SqlValue[] = [];
    // the whole payload is stored as its text, whether or not it is JSON
    for (const c of rule.columns) {
      row.push(_value(c.root === "payload" && c.field === null ? m.payload.toString("utf8") : out[c.name]));
    }
    this.rows.push(row);
    if (!this.scheduled && this.timer === null) {
      this.scheduled = true;
      setImmediate(() => this._flush());
    }
  }

  close(): void {
    this._flush();
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
  }

  private _flush(): void {
    this.scheduled = false;
    if (this.rows.length === 0 || this.closed) return;
    const rows = this.rows;
    try {
      this._columnsFor(rows[0]!);
      const names = this.rule.columns.map((c) => _q(c.sqlName)).join(", ");
      const marks = this.rule.columns.map(() => "?").join(", ");
      const insert = this.db.prepare(`INSERT INTO ${_q(this.table)} (${names}) VALUES (${marks})`);
      this.db.exec("BEGIN");
      try {
        for (const r of rows) insert.run(...r);
        this.db.exec("COMMIT");
      } catch (e) {
        this.db.exec("ROLLBACK");
        throw e;
      }
      this.rows = [];
      this.counters.ok += rows.length;
    } catch (e) {
      // busy or locked: the rows stay and are tried again; anything else is counted as failed
      const msg = (e as Error).message;
      if (/busy|locked/i.test(msg)) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this._flush();
        }, RETRY_MS);
      } else {
        this.counters.failed += rows.length;
        this.rows = [];
      }
      this._report(msg);
    }
  }

  /** Adds the payload-field columns the table lacks, typed by the first row's values. */
  private _columnsFor(first: SqlValue[]): void {
    this.rule.columns.forEach((c, i) => {
      if (this.known.has(c.sqlName)) return;
      const type = c.field === null ? FIXED_TYPES[c.root] : typeof first[i] === "number" ? "INT" : "TEXT";
      this.db.exec(`ALTER TABLE ${_q(this.table)} ADD ${_q(c.sqlName)} ${type}`);
      this.known.add(c.sqlName);
    });
  }

  private _report(why: string): void {
    const now = Date.now();
    if (now - this.lastLog < LOG_EVERY_MS) return;
    this.lastLog = now;
    const c = this.counters;
    this.log.error(
      `Rule sqlite action on table ${this.table}: ${why} (failed ${c.failed}, dropped ${c.dropped} so far)`,
    );
  }
}

function _value(v: unknown): SqlValue {
  if (v === undefined || v === null) return null;
  if (typeof v === "number" || typeof v === "string") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  return JSON.stringify(v);
}
