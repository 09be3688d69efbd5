/**
 * What the HOCON library does not tell us: where each key is (file and line, for error messages),
 * and which files are included. Includes are expanded here, through a reader the caller supplies,
 * so that a missing include is an error naming its path and every line keeps its origin.
 */
import { ConfigError } from "./config_error.ts";

interface Token {
  /** nl = newline, p = punctuation, s = quoted string, w = unquoted word */
  t: "nl" | "p" | "s" | "w";
  v: string;
  line: number;
  start: number;
  end: number;
}

const STOP = new Set(["{", "}", "[", "]", ",", "=", ":", '"', "#"]);

function _lex(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "\n") {
      out.push({ t: "nl", v: c, line: line++, start: i, end: ++i });
    } else if (c === " " || c === "\t" || c === "\r" || c === "\uFEFF") i++;
    else if (c === "#" || (c === "/" && text[i + 1] === "/")) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === '"') {
      const start = i;
      const triple = text.startsWith('"""', i);
      const close = triple ? text.indexOf('"""', i + 3) : _closeQuote(text, i + 1);
      const end = close < 0 ? text.length : close + (triple ? 3 : 1);
      const raw = text.slice(start, end);
      out.push({ t: "s", v: triple ? raw.slice(3, -3) : _unquote(raw), line, start, end });
      line += raw.split("\n").length - 1;
      i = end;
    } else if (STOP.has(c)) {
      out.push({ t: "p", v: c, line, start: i, end: ++i });
    } else {
      const start = i;
      while (i < text.length && !/\s/.test(text[i]!) && !STOP.has(text[i]!) && !text.startsWith("//", i)) i++;
      out.push({ t: "w", v: text.slice(start, i), line, start, end: i });
    }
  }
  return out;
}

function _closeQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
    else if (text[i] === "\n") return -1;
  }
  return -1;
}

function _unquote(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.slice(1, -1);
  }
}

/** An `include` directive found in a file. */
interface Include {
  path: string;
  line: number;
  start: number;
  end: number;
}

interface Walk {
  keys: Map<string, number>;
  includes: Include[];
}

/** Walks the tokens as HOCON objects and arrays, recording key paths and include directives. */
function _walk(tokens: Token[]): Walk {
  const keys = new Map<string, number>();
  const includes: Include[] = [];
  const frames: { arr: boolean; path: string[]; idx: number }[] = [{ arr: false, path: [], idx: 0 }];
  let i = 0;
  const at = (k: number): Token | undefined => tokens[k];
  const open = (path: string[]): void => {
    const tk = at(i);
    if (tk?.v === "{" && tk.t === "p") frames.push({ arr: false, path, idx: 0 });
    else if (tk?.v === "[" && tk.t === "p") frames.push({ arr: true, path, idx: 0 });
    else {
      while (i < tokens.length && at(i)!.t !== "nl" && !(at(i)!.t === "p" && /[,}\]]/.test(at(i)!.v))) i++;
      return;
    }
    i++;
  };
  while (i < tokens.length) {
    const f = frames[frames.length - 1]!;
    const tk = at(i)!;
    if (tk.t === "nl" || tk.v === ",") i++;
    else if (tk.t === "p" && (tk.v === "}" || tk.v === "]")) {
      if (frames.length > 1) frames.pop();
      i++;
    } else if (f.arr) open([...f.path, String(f.idx++)]);
    else if (tk.t === "w" && tk.v === "include" && at(i + 1)?.t !== "p") {
      const first = i;
      while (i < tokens.length && at(i)!.t !== "nl" && !(at(i)!.t === "p" && /[,}]/.test(at(i)!.v))) i++;
      const str = tokens.slice(first, i).find((t) => t.t === "s");
      if (str !== undefined) {
        includes.push({ path: str.v, line: tk.line, start: tk.start, end: at(i - 1)!.end });
      }
    } else {
      const segs: string[] = [];
      while (i < tokens.length && (at(i)!.t === "s" || at(i)!.t === "w")) {
        const k = at(i++)!;
        if (k.t === "s") segs.push(k.v);
        else segs.push(...k.v.split(".").filter((s) => s !== ""));
      }
      if (segs.length === 0) {
        i++; // stray punctuation: the HOCON parser reports it
        continue;
      }
      const path = [...f.path, ...segs];
      for (let n = f.path.length + 1; n < path.length; n++) {
        const p = path.slice(0, n).join(".");
        if (!keys.has(p)) keys.set(p, tk.line);
      }
      keys.set(path.join("."), tk.line);
      if (at(i)?.t === "p" && (at(i)!.v === "=" || at(i)!.v === ":")) i++;
      open(path);
    }
  }
  return { keys, includes };
}

/** Where a line of the expanded text came from. */
export interface Origin {
  file: string;
  line: number;
}

/** A HOCON text with its includes expanded, and the origin of each of its lines. */
export interface ExpandedSource {
  text: string;
  /** origins[i] is where line i + 1 of `text` came from. */
  origins: Origin[];
  /** Every file read, the main one first. */
  files: string[];
}

/** Reads a file for the loader; rejects when it cannot. */
export type ReadFile = (path: string) => Promise<string>;

const MAX_DEPTH = 8;

/** Expands the `include "file"` directives of `text` (paths relative to `file`'s directory). */
export async function expandIncludes(text: string, file: string, read: ReadFile): Promise<ExpandedSource> {
  const out: ExpandedSource = { text: "", origins: [], files: [file] };
  const last = await _expand(text, file, read, out, 0);
  out.origins.push({ file, line: last });
  return out;
}

/** Appends `text` with its includes expanded; returns the line its last (unterminated) line came from. */
async function _expand(
  text: string,
  file: string,
  read: ReadFile,
  out: ExpandedSource,
  depth: number,
): Promise<number> {
  const emit = (piece: string, line: number): void => {
    out.text += piece;
    const n = piece.split("\n").length - 1;
    for (let k = 0; k < n; k++) out.origins.push({ file, line: line + k });
  };
  let pos = 0;
  let line = 1;
  for (const inc of _walk(_lex(text)).includes) {
    emit(text.slice(pos, inc.start) + "\n", line);
    line = inc.line;
    const path = _resolve(inc.path, file);
    if (depth >= MAX_DEPTH || out.files.includes(path)) {
      throw new ConfigError(
        file,
        inc.line,
        "include",
        `"${path}" is included in a loop or too deeply; remove it`,
      );
    }
    let body: string;
    try {
      body = await read(path);
    } catch (e) {
      throw new ConfigError(
        file,
        inc.line,
        "include",
        `cannot read "${path}" (${(e as Error).message}); check the path`,
      );
    }
    out.files.push(path);
    const last = await _expand(_stripBraces(body), path, read, out, depth + 1);
    out.text += "\n";
    out.origins.push({ file: path, line: last });
    pos = inc.end;
  }
  const rest = text.slice(pos);
  emit(rest, line);
  return line + rest.split("\n").length - 1;
}

/** An included JSON object `{ ... }` is spliced as the contents of the section that includes it. */
function _stripBraces(body: string): string {
  const a = body.search(/\S/);
  const b = body.trimEnd().length - 1;
  if (a < 0 || body[a] !== "{" || body[b] !== "}") return body;
  return `${body.slice(0, a)} ${body.slice(a + 1, b)} ${body.slice(b + 1)}`; // same lines
}

function _resolve(path: string, from: string): string {
  if (path.startsWith("/")) return path;
  const slash = from.lastIndexOf("/");
  return slash < 0 ? path : `${from.slice(0, slash)}/${path}`;
}

/** Key paths ("mqtt.max_packet_size", "auth.acl.rules.0.permit") of a HOCON or JSON text, with lines. */
export function locateKeys(text: string): Map<string, number> {
  return _walk(_lex(text)).keys;
}
