/**
 * NanoMQ's rule SQL, parsed by hand (recursive descent): `SELECT <fields> FROM "<filter>"[, ...]
 * [WHERE <condition>]`. Fields are `*` or paths (`payload.x.y`, `topic`, ...) with `AS` aliases;
 * conditions compare operands (paths, 'strings', "strings", numbers, true, false, null) with
 * = != <> < <= > >= and join them with AND, OR, NOT and parentheses. A statement that does not
 * parse is a RuleSqlError with the 1-based position of the fault.
 */

/** A comparison operator. */
export type CmpOp = "=" | "!=" | "<" | "<=" | ">" | ">=";

/** A condition or an operand, as parsed. */
export type Expr =
  | { k: "lit"; v: string | number | boolean | null }
  | { k: "ref"; path: string[]; pos: number }
  | { k: "cmp"; op: CmpOp; a: Expr; b: Expr }
  | { k: "and" | "or"; a: Expr; b: Expr }
  | { k: "not"; a: Expr };

/** One selected field: its path and its alias (null: none). */
export interface Field {
  path: string[];
  as: string | null;
  pos: number;
}

/** A parsed statement. `fields` is "*" for SELECT *. */
export interface RuleStatement {
  fields: Field[] | "*";
  from: string[];
  where: Expr | null;
}

/** A statement that does not parse; `pos` is the 1-based position of the fault. */
export class RuleSqlError extends Error {
  constructor(readonly pos: number, what: string) {
    super(`SQL error at position ${pos}: ${what}`);
    this.name = "RuleSqlError";
  }
}

type Tok = { t: "id" | "str" | "num" | "op" | "punct" | "end"; v: string; pos: number };

const KEYWORDS = new Set(["select", "from", "where", "as", "and", "or", "not", "true", "false", "null"]);

/** Splits `sql` into tokens; an unknown character or an unterminated string is a RuleSqlError. */
function _lex(sql: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const pos = i + 1;
    if (/\s/.test(c)) {
      i++;
    } else if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z0-9_$]+/.exec(sql.slice(i))![0];
      out.push({ t: "id", v: m, pos });
      i += m.length;
    } else if (/[0-9]/.test(c) || (c === "-" && /[0-9]/.test(sql[i + 1] ?? ""))) {
      const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(sql.slice(i))![0];
      out.push({ t: "num", v: m, pos });
      i += m.length;
    } else if (c === "'" || c === '"') {
      let s = "";
      let j = i + 1;
      for (;; j++) {
        if (j >= sql.length) throw new RuleSqlError(pos, `the string starting here is not closed with ${c}`);
        if (sql[j] === c) {
          if (sql[j + 1] === c) {
            s += c; // a quote doubled stands for itself
            j++;
            continue;
          }
          break;
        }
        s += sql[j];
      }
      out.push({ t: "str", v: s, pos });
      i = j + 1;
    } else {
      const two = sql.slice(i, i + 2);
      if (two === "!=" || two === "<>" || two === "<=" || two === ">=") {
        out.push({ t: "op", v: two === "<>" ? "!=" : two, pos });
        i += 2;
      } else if ("=<>".includes(c)) {
        out.push({ t: "op", v: c, pos });
        i++;
      } else if ("*,.();".includes(c)) {
        out.push({ t: "punct", v: c, pos });
        i++;
      } else throw new RuleSqlError(pos, `unexpected character "${c}"`);
    }
  }
  out.push({ t: "end", v: "", pos: sql.length + 1 });
  return out;
}

/** Parses a rule statement. */
export function parseRuleSql(sql: string): RuleStatement {
  return new _Parser(_lex(sql)).statement();
}

class _Parser {
  private i = 0;
  constructor(private readonly toks: Tok[]) {}

  private get tok(): Tok {
    return this.toks[this.i]!;
  }

  private _describe(t: Tok): string {
    return t.t === "end" ? "the end" : t.t === "str" ? `'${t.v}'` : `"${t.v}"`;
  }

  private _fail(what: string): never {
    throw new RuleSqlError(this.tok.pos, `expected ${what}, found ${this._describe(this.tok)}`);
  }

  private _keyword(k: string): boolean {
    if (this.tok.t === "id" && this.tok.v.toLowerCase() === k) {
      this.i++;
      return true;
    }
    return false;
  }

  private _punct(p: string): boolean {
    if (this.tok.t === "punct" && this.tok.v === p) {
      this.i++;
      return true;
    }
    return false;
  }

  statement(): RuleStatement {
    if (!this._keyword("select")) this._fail("SELECT");
    const fields = this._punct("*") ? "*" : this._fields();
    if (!this._keyword("from")) this._fail("FROM (or a comma and another field)");
    const from = [this._topic()];
    while (this._punct(",")) from.push(this._topic());
    const where = this._keyword("where") ? this._or() : null;
    this._punct(";");
    if (this.tok.t !== "end") this._fail(where === null ? "WHERE or the end" : "AND, OR or the end");
    return { fields, from, where };
  }

  private _fields(): Field[] {
    const out: Field[] = [];
    do {
      const pos = this.tok.pos;
      const path = this._path();
      let as: string | null = null;
      if (this._keyword("as")) {
        if (this.tok.t !== "id" || KEYWORDS.has(this.tok.v.toLowerCase())) this._fail("a name after AS");
        as = this.tok.v;
        this.i++;
      }
      out.push({ path, as, pos });
    } while (this._punct(","));
    return out;
  }

  private _topic(): string {
    if (this.tok.t !== "str") this._fail('a topic filter in double quotes ("t/#")');
    return this.toks[this.i++]!.v;
  }

  private _path(): string[] {
    if (this.tok.t !== "id" || KEYWORDS.has(this.tok.v.toLowerCase())) {
      this._fail("a field (payload, topic, ...)");
    }
    const path = [this.toks[this.i++]!.v];
    while (this._punct(".")) {
      if (this.tok.t !== "id") this._fail("a name after the dot");
      path.push(this.toks[this.i++]!.v);
    }
    return path;
  }

  private _or(): Expr {
    let a = this._and();
    while (this._keyword("or")) a = { k: "or", a, b: this._and() };
    return a;
  }

  private _and(): Expr {
    let a = this._not();
    while (this._keyword("and")) a = { k: "and", a, b: this._not() };
    return a;
  }

  private _not(): Expr {
    return this._keyword("not") ? { k: "not", a: this._not() } : this._cmp();
  }

  private _cmp(): Expr {
    const a = this._operand();
    if (this.tok.t !== "op") return a;
    const op = this.toks[this.i++]!.v as CmpOp;
    return { k: "cmp", op, a, b: this._operand() };
  }

  private _operand(): Expr {
    const t = this.tok;
    if (this._punct("(")) {
      const e = this._or();
      if (!this._punct(")")) this._fail('")"');
      return e;
    }
    if (t.t === "str") return this.i++, { k: "lit", v: t.v };
    if (t.t === "num") return this.i++, { k: "lit", v: Number(t.v) };
    if (this._keyword("true")) return { k: "lit", v: true };
    if (this._keyword("false")) return { k: "lit", v: false };
    if (this._keyword("null")) return { k: "lit", v: null };
    return { k: "ref", path: this._path(), pos: t.pos };
  }
}
