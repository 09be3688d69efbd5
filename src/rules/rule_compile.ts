/**
 * A parsed rule statement compiled once into functions over a message: the WHERE test and the
 * selected fields. Nothing is evaluated as code: the functions are built from the parse tree.
 */
import { type CmpOp, type Expr, type Field, parseRuleSql, RuleSqlError } from "./rule_sql.ts";

/** What a rule sees of one message. */
export interface RuleInput {
  topic: string;
  qos: number;
  /** The packet identifier (0 at QoS 0). */
  id: number;
  clientid: string;
  username: string | undefined;
  payload: Buffer;
  /** Seconds since the epoch, as NanoMQ's. */
  timestamp: number;
  /** The payload parsed as JSON on first use (`parsed` set); undefined when it is not JSON. */
  parsed: boolean;
  json: unknown;
}

type Getter = (m: RuleInput) => unknown;

/** One output field of a rule. */
export interface RuleColumn {
  /** The name in the JSON output (the alias, or NanoMQ's name for the field). */
  name: string;
  /** The column in a SQLite table (the alias, or NanoMQ's capitalised name). */
  sqlName: string;
  /** The value as the output carries it. */
  get: Getter;
  /** The field the path starts from: payload, topic, qos, id, clientid, username, timestamp. */
  root: string;
  /** A field of the payload's JSON (`payload.x.y`: ["x", "y"]); null for the root field itself. */
  field: string[] | null;
}

/** A compiled rule statement. */
export interface CompiledRule {
  readonly sql: string;
  readonly from: readonly string[];
  readonly columns: readonly RuleColumn[];
  /** The WHERE condition (true without one). */
  test(m: RuleInput): boolean;
  /** The selected fields by output name, in their order; a field the message lacks is left out. */
  select(m: RuleInput): Record<string, unknown>;
}

/** The fields of a message, in NanoMQ's order (its Password field is never given out here). */
const ROOTS: Record<string, Getter> = {
  qos: (m) => m.qos,
  id: (m) => m.id,
  topic: (m) => m.topic,
  clientid: (m) => m.clientid,
  username: (m) => m.username,
  timestamp: (m) => m.timestamp,
  payload: (m) => m.payload.toString("utf8"),
};

/** The payload as JSON, parsed once per message. */
export function payloadJson(m: RuleInput): unknown {
  if (!m.parsed) {
    m.parsed = true;
    m.json = undefined;
    // a payload that cannot start a JSON value is not parsed: a thrown SyntaxError costs microseconds
    if (_mayBeJson(m.payload)) {
      try {
        m.json = JSON.parse(m.payload.toString("utf8"));
      } catch {
        // not JSON after all
      }
    }
  }
  return m.json;
}

/**
 * Whether `p` can be JSON, decided without the parser: a thrown SyntaxError costs about a
 * microsecond, and binary payloads (most of which fail here at their first byte or at a control
 * byte) would pay it for every message.
 */
function _mayBeJson(p: Buffer): boolean {
  let i = 0;
  let j = p.length - 1;
  while (i <= j && _ws(p[i]!)) i++;
  while (j >= i && _ws(p[j]!)) j--;
  if (i > j) return false;
  const c = p[i]!;
  const last = p[j]!;
  if (c === 0x7b || c === 0x5b || c === 0x22) {
    if (last !== (c === 0x7b ? 0x7d : c === 0x5b ? 0x5d : 0x22) || i === j) return false;
    // JSON text holds no control characters outside white space
    for (let k = i; k <= j; k++) if (p[k]! < 0x20 && !_ws(p[k]!)) return false;
    return true;
  }
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
    for (let k = i; k <= j; k++) {
      const d = p[k]!;
      if (!((d >= 0x30 && d <= 0x39) || d === 0x2e || d === 0x2d || d === 0x2b || d === 0x65 || d === 0x45)) {
        return false;
      }
    }
    return true;
  }
  const word = p.toString("latin1", i, j + 1);
  return word === "true" || word === "false" || word === "null";
}

function _ws(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** Compiles `sql`; throws RuleSqlError (with the position) when it does not parse or names an unknown field. */
export function compileRule(sql: string): CompiledRule {
  const st = parseRuleSql(sql);
  const columns = st.fields === "*"
    ? Object.keys(ROOTS).map((r) => _column({ path: [r], as: null, pos: 0 }))
    : st.fields.map(_column);
  const aliases = new Map(columns.filter((c) => c.name !== c.root).map((c) => [c.name, c.get]));
  const test = st.where === null ? () => true : _condition(st.where, aliases);
  return {
    sql,
    from: st.from,
    columns,
    test,
    select(m) {
      const out: Record<string, unknown> = {};
      for (const c of columns) {
        const v = c.get(m);
        if (v !== undefined) out[c.name] = v;
      }
      return out;
    },
  };
}

function _column(f: Field): RuleColumn {
  const [root, ...rest] = f.path;
  const base = ROOTS[root!.toLowerCase()];
  if (base === undefined) throw _unknown(root!, f.pos);
  const r = root!.toLowerCase();
  if (rest.length > 0 && r !== "payload") {
    throw new RuleSqlError(f.pos, `${r} has no fields (only payload does)`);
  }
  const name = f.as ?? (rest.length > 0 ? rest.at(-1)! : r);
  // the whole payload goes out as JSON when it is JSON, as text when not (NanoMQ's output)
  const get: Getter = rest.length > 0
    ? (m) => _at(payloadJson(m), rest)
    : r === "payload"
    ? (m) => payloadJson(m) ?? base(m)
    : base;
  const sqlName = f.as ?? (rest.length > 0 ? name : r[0]!.toUpperCase() + r.slice(1));
  return { name, sqlName, get, root: r, field: rest.length > 0 ? rest : null };
}

function _unknown(name: string, pos: number): RuleSqlError {
  return new RuleSqlError(
    pos,
    `unknown field "${name}"; the fields are ${Object.keys(ROOTS).join(", ")} and payload.<path>`,
  );
}

function _at(v: unknown, path: string[]): unknown {
  for (const k of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** A WHERE operand: a literal, an alias from SELECT, or a field of the message. */
function _operand(e: Expr, aliases: Map<string, Getter>): Getter {
  if (e.k === "lit") return () => e.v;
  if (e.k !== "ref") {
    const test = _condition(e, aliases);
    return (m) => test(m);
  }
  const [root, ...rest] = e.path;
  const alias = aliases.get(root!);
  if (alias !== undefined) return rest.length === 0 ? alias : (m) => _at(alias(m), rest);
  const r = root!.toLowerCase();
  const base = ROOTS[r];
  if (base === undefined) throw _unknown(root!, e.pos);
  if (rest.length === 0) return base;
  if (r !== "payload") throw new RuleSqlError(e.pos, `${r} has no fields (only payload does)`);
  return (m) => _at(payloadJson(m), rest);
}

function _condition(e: Expr, aliases: Map<string, Getter>): (m: RuleInput) => boolean {
  switch (e.k) {
    case "and": {
      const [a, b] = [_condition(e.a, aliases), _condition(e.b, aliases)];
      return (m) => a(m) && b(m);
    }
    case "or": {
      const [a, b] = [_condition(e.a, aliases), _condition(e.b, aliases)];
      return (m) => a(m) || b(m);
    }
    case "not": {
      const a = _condition(e.a, aliases);
      return (m) => !a(m);
    }
    case "cmp": {
      const [a, b, op] = [_operand(e.a, aliases), _operand(e.b, aliases), e.op];
      return (m) => compareValues(op, a(m), b(m));
    }
    default: {
      const v = _operand(e, aliases);
      return (m) => v(m) === true;
    }
  }
}

/**
 * SQL-like comparison: a missing value compares false; a number against a numeric string compares
 * as numbers; other mixed kinds compare as text; null equals only null.
 */
export function compareValues(op: CmpOp, x: unknown, y: unknown): boolean {
  if (x === undefined || y === undefined) return false;
  if (x === null || y === null) return op === "=" ? x === y : op === "!=" ? x !== y : false;
  let a: unknown = x;
  let b: unknown = y;
  if (typeof a === "number" && typeof b === "string" && _numeric(b)) b = Number(b);
  else if (typeof b === "number" && typeof a === "string" && _numeric(a)) a = Number(a);
  if (typeof a !== typeof b || typeof a === "object") {
    a = _text(a);
    b = _text(b);
  }
  const [p, q] = [a as number | string, b as number | string];
  switch (op) {
    case "=":
      return p === q;
    case "!=":
      return p !== q;
    case "<":
      return p < q;
    case "<=":
      return p <= q;
    case ">":
      return p > q;
    case ">=":
      return p >= q;
  }
}

function _numeric(s: string): boolean {
  return s.trim() !== "" && Number.isFinite(Number(s));
}

function _text(v: unknown): string {
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}
