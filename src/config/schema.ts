/**
 * A small schema language for configuration trees: each spec validates one value, knows its
 * default, and gives the TypeScript type of the result, so the typed Config is inferred from the
 * schema that validates it.
 */
import { closestKey } from "./closest_key.ts";

/** Where validation reports: `fail` throws (a ConfigError naming where the key came from). */
export interface SchemaContext {
  warn(path: string, msg: string): void;
  fail(path: string, msg: string): never;
}

/** One value's validator. */
export interface Spec<T> {
  readonly default: T;
  parse(v: unknown, path: string, cx: SchemaContext): T;
  /** Set when the key is accepted and validated but has no effect yet: warned about once when present. */
  readonly notice?: string;
  /** The key must be present. */
  readonly required?: boolean;
  /** The value as a file would give it (durations with their unit); absent: the value itself. */
  show?(v: T): unknown;
}

/** The type a spec produces. */
export type Infer<S> = S extends Spec<infer T> ? T : never;

// deno-lint-ignore no-explicit-any
type AnySpec = Spec<any>;
type Fields = Record<string, AnySpec>;
type FromFields<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

/** Returns `spec` as a key that must be given. */
export function required<T>(spec: Spec<T>): Spec<T> {
  return { ...spec, required: true };
}

/** Returns `spec` with a notice: present in a file, the key is validated and then warned about. */
export function notice<T>(spec: Spec<T>, msg: string): Spec<T> {
  return { ...spec, notice: msg };
}

function _num(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(v)) return Number(v);
  return NaN;
}

function _ranged(n: number, min: number, max: number, path: string, cx: SchemaContext): number {
  if (n < min || n > max) cx.fail(path, `${n} is out of range ${min}..${max}`);
  return n;
}

/** A whole number in [min, max]. */
export function int(def: number, min: number, max: number): Spec<number> {
  return {
    default: def,
    parse(v, path, cx) {
      const n = _num(v);
      if (!Number.isInteger(n)) cx.fail(path, `${JSON.stringify(v)} is not a whole number`);
      return _ranged(n, min, max, path, cx);
    },
  };
}

/** A number in [min, max]. */
export function num(def: number, min: number, max: number): Spec<number> {
  return {
    default: def,
    parse(v, path, cx) {
      const n = _num(v);
      if (!Number.isFinite(n)) cx.fail(path, `${JSON.stringify(v)} is not a number`);
      return _ranged(n, min, max, path, cx);
    },
  };
}

/** "10MB" / "512KB" / "1GB" / plain bytes -> bytes; NaN when not a size. */
export function parseSize(v: unknown): number {
  if (typeof v === "number") return v;
  const m = /^\s*(\d+)\s*(KB|MB|GB)?\s*$/i.exec(String(v));
  if (m === null) return NaN;
  const mul = { "": 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[(m[2] ?? "").toUpperCase()] ?? NaN;
  return Number(m[1]) * mul;
}

/** "800ms" / "10s" / "5m" / "1h" -> ms (a bare number is seconds); NaN when not a duration. */
export function parseDuration(v: unknown): number {
  const n = _num(v);
  if (Number.isFinite(n)) return n * 1000;
  const m = /^\s*(\d+)\s*(ms|s|m|h)\s*$/i.exec(String(v));
  if (m === null) return NaN;
  const mul = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2]!.toLowerCase()]!;
  return Number(m[1]) * mul;
}

/** A size in bytes (`KB`, `MB`, `GB` or plain bytes) in [min, max]. */
export function size(def: number, min: number, max: number): Spec<number> {
  return {
    default: def,
    parse(v, path, cx) {
      const n = parseSize(v);
      if (!Number.isFinite(n)) {
        cx.fail(path, `${JSON.stringify(v)} is not a size such as 10MB, 512KB or 1024`);
      }
      return _ranged(n, min, max, path, cx);
    },
  };
}

/** A duration in milliseconds (`ms`, `s`, `m`, `h`; a bare number is seconds) in [min, max]. */
export function duration(def: number, min: number, max: number): Spec<number> {
  return {
    default: def,
    parse(v, path, cx) {
      const n = parseDuration(v);
      if (!Number.isFinite(n)) {
        cx.fail(path, `${JSON.stringify(v)} is not a duration such as 10s, 500ms or 5m`);
      }
      return _ranged(n, min, max, path, cx);
    },
    show: (ms) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`),
  };
}

/** true / false (also the strings "true" and "false"). */
export function bool(def: boolean): Spec<boolean> {
  return {
    default: def,
    parse(v, path, cx) {
      if (v === true || v === "true") return true;
      if (v === false || v === "false") return false;
      return cx.fail(path, `${JSON.stringify(v)} is not true or false`);
    },
  };
}

/** A string (numbers and booleans written unquoted are taken as their text). */
export function str(def: string): Spec<string> {
  return { default: def, parse: (v, path, cx) => _string(v, path, cx) };
}

/** A string, null by default. */
export function optStr(): Spec<string | null> {
  return { default: null, parse: (v, path, cx) => (v === null ? null : _string(v, path, cx)) };
}

function _string(v: unknown, path: string, cx: SchemaContext): string {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return cx.fail(path, `expected a string, found ${_kind(v)}`);
}

function _kind(v: unknown): string {
  return Array.isArray(v)
    ? "a list"
    : v === null
    ? "null"
    : typeof v === "object"
    ? "a { } section"
    : typeof v;
}

/** One of `values`. */
export function oneOf<const V extends string>(def: V, values: readonly V[]): Spec<V> {
  return {
    default: def,
    parse(v, path, cx) {
      const s = String(v).toLowerCase();
      if ((values as readonly string[]).includes(s)) return s as V;
      return cx.fail(path, `${JSON.stringify(v)} is not one of ${values.join(", ")}`);
    },
  };
}

/** A list of `item` (a single value is taken as a list of one). */
export function list<T>(item: Spec<T>, def: T[] = []): Spec<T[]> {
  return {
    default: def,
    parse(v, path, cx) {
      const arr = Array.isArray(v) ? v : [v];
      return arr.map((x, i) => item.parse(x, `${path}.${i}`, cx));
    },
    show: (arr) => arr.map((x) => showValue(item, x)),
  };
}

/** A section whose keys are free (headers, user properties): every value is a string. */
export function strMap(): Spec<Record<string, string>> {
  return {
    default: {},
    parse(v, path, cx) {
      const o = _object(v, path, cx);
      const out: Record<string, string> = {};
      for (const [k, x] of Object.entries(o)) out[k] = _string(x, `${path}.${k}`, cx);
      return out;
    },
  };
}

function _object(v: unknown, path: string, cx: SchemaContext): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    return cx.fail(path, `expected a { } section, found ${_kind(v)}`);
  }
  return v as Record<string, unknown>;
}

/** A section with known keys; unknown keys are warned about with the closest known one. */
export function obj<F extends Fields>(fields: F): Spec<FromFields<F>> {
  return {
    get default() {
      return _defaults(fields);
    },
    parse(v, path, cx) {
      return _parseFields(fields, _object(v, path, cx), path, cx, null).out;
    },
    show: (v) => _showFields(fields, v),
  };
}

/**
 * A section with known keys plus named children of one kind (`listeners.tcp.<name>`,
 * `bridges.mqtt.<name>`): keys that are not fields and hold a section are children.
 */
export function objWithNamed<F extends Fields, N>(
  fields: F,
  named: Spec<N>,
): Spec<FromFields<F> & { named: Record<string, N> }> {
  return {
    get default() {
      return { ..._defaults(fields), named: {} };
    },
    parse(v, path, cx) {
      const { out, named: n } = _parseFields(fields, _object(v, path, cx), path, cx, named);
      return { ...out, named: n as Record<string, N> };
    },
    // the named children as a file gives them: beside the section's own keys
    show: ({ named: n, ...own }) => ({
      ..._showFields(fields, own),
      ...Object.fromEntries(Object.entries(n).map(([k, x]) => [k, showValue(named, x)])),
    }),
  };
}

/** An optional section: null when absent (NanoMQ turns features on by a section's presence). */
export function section<T>(spec: Spec<T>): Spec<T | null> {
  return {
    ...spec,
    default: null,
    parse: (v, path, cx) => (v === null ? null : spec.parse(v, path, cx)),
    show: (v) => (v === null ? null : showValue(spec, v)),
  };
}

/** `v` as a file would give it: what {@link Spec.show} makes of it, or `v` itself. */
export function showValue<T>(spec: Spec<T>, v: T): unknown {
  return spec.show === undefined ? v : spec.show(v);
}

function _showFields(fields: Fields, v: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(v).map(([k, x]) => [k, fields[k] === undefined ? x : showValue(fields[k], x)]),
  );
}

function _defaults<F extends Fields>(fields: F): FromFields<F> {
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(fields)) out[k] = structuredClone(s.default);
  return out as FromFields<F>;
}

function _parseFields<F extends Fields>(
  fields: F,
  o: Record<string, unknown>,
  path: string,
  cx: SchemaContext,
  named: AnySpec | null,
): { out: FromFields<F>; named: Record<string, unknown> } {
  const out: Record<string, unknown> = _defaults(fields);
  const children: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    const p = path === "" ? k : `${path}.${k}`;
    const spec = fields[k];
    if (spec !== undefined) {
      out[k] = spec.parse(v, p, cx);
      if (spec.notice !== undefined) cx.warn(p, spec.notice);
    } else if (named !== null && v !== null && typeof v === "object" && !Array.isArray(v)) {
      children[k] = named.parse(v, p, cx);
      if (named.notice !== undefined) cx.warn(p, named.notice);
    } else {
      const near = closestKey(k, Object.keys(fields));
      const what = `is not a known key${near === null ? "" : ` (did you mean ${near}?)`}`;
      // a mistyped key there could leave the broker open: it does not start instead
      if (_securityRelevant(p) || (path === "" && (near === "auth" || near === "listeners"))) {
        cx.fail(p, `${what}; access control, TLS and listeners take no unknown keys`);
      } else cx.warn(p, `${what}; ignored`);
    }
  }
  for (const [k, spec] of Object.entries(fields)) {
    if (spec.required === true && !(k in o)) cx.fail(path === "" ? k : `${path}.${k}`, "is required");
  }
  return { out: out as FromFields<F>, named: children };
}

/** Keys under these sections decide who gets in and what they may do. */
function _securityRelevant(path: string): boolean {
  return path.startsWith("auth.") || path.startsWith("listeners.") || /(^|\.)ssl\./.test(path);
}

/** A whole number in [min, max], null when absent. */
export function optInt(min: number, max: number): Spec<number | null> {
  const i = int(min, min, max);
  return { default: null, parse: (v, path, cx) => (v === null ? null : i.parse(v, path, cx)) };
}
