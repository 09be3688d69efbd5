/**
 * Loads the configuration: a HOCON (NanoMQ), JSON or YAML file, then NANOMQ_* variables, then
 * flags, validated once against the schema. Reads files only through the reader it is given.
 */
import { type Config, CONFIG_SPEC } from "./config.ts";
import { applyEdits, type Edit, envEdits } from "./config_env.ts";
import { ConfigError } from "./config_error.ts";
import { expandIncludes, locateKeys, type Origin, type ReadFile } from "./hocon_source.ts";
import type { SchemaContext } from "./schema.ts";

/** A validated configuration and what was noticed on the way. */
export interface LoadedConfig {
  config: Config;
  /** The file it came from, "(defaults)" when none. */
  source: string;
  /** Problems that do not stop the broker: unknown keys, keys without effect yet. */
  warnings: string[];
  /** Every file read (the configuration and its includes). */
  files: string[];
}

/** What to load. */
export interface LoadOptions {
  /** The configuration file; null for the built-in defaults. */
  file: string | null;
  read: ReadFile;
  /** NANOMQ_* variables are taken from here (default: none). */
  env?: Record<string, string | undefined>;
  /** Edits from command-line flags, applied last. */
  edits?: Edit[];
}

interface Raw {
  tree: Record<string, unknown>;
  origins: Map<string, Origin>;
  files: string[];
}

/** Loads and validates; throws ConfigError naming the file, line and key of the first error. */
export async function loadConfig(o: LoadOptions): Promise<LoadedConfig> {
  const raw: Raw = o.file === null
    ? { tree: {}, origins: new Map(), files: [] }
    : await _readRaw(o.file, await _read(o.read, o.file), o.read);
  const { edits, warnings: envWarnings } = envEdits(o.env ?? {});
  const editOrigins = new Map<string, string>();
  applyEdits(raw.tree, [...edits, ...(o.edits ?? [])], editOrigins);
  for (const [p, origin] of editOrigins) raw.origins.set(p, { file: origin, line: 0 });
  const warnings: string[] = [];
  const source = o.file ?? "(defaults)";
  const where = (path: string): Origin => _originOf(raw.origins, path, source);
  const cx: SchemaContext = {
    warn: (path, msg) => {
      const w = where(path);
      warnings.push(`${w.file}${w.line > 0 ? `:${w.line}` : ""}: ${path} ${msg}`);
    },
    fail: (path, msg) => {
      const w = where(path);
      throw new ConfigError(w.file, w.line, path, msg);
    },
  };
  _namedOnly(raw.tree);
  const config = CONFIG_SPEC.parse(raw.tree, "", cx);
  _crossCheck(config, cx);
  return { config, source, warnings: [...envWarnings, ...warnings], files: raw.files };
}

/** Parses one HOCON text (includes are refused); for tests and `broker check` of a snippet. */
export function parseConfig(text: string, file: string): Promise<LoadedConfig> {
  return loadConfig({
    file,
    read: (p) =>
      p === file ? Promise.resolve(text) : Promise.reject(
        new ConfigError(p, 0, "include", "a configuration given as text cannot include files"),
      ),
  });
}

async function _read(read: ReadFile, file: string): Promise<string> {
  try {
    return await read(file);
  } catch (e) {
    throw new ConfigError(
      file,
      0,
      "--conf",
      `cannot read the file (${(e as Error).message}); check the path`,
    );
  }
}

async function _readRaw(file: string, text: string, read: ReadFile): Promise<Raw> {
  const origins = new Map<string, Origin>();
  if (/\.json$/i.test(file)) {
    let tree: unknown;
    try {
      tree = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(file, 0, "(syntax)", `${(e as Error).message}; fix the JSON syntax`);
    }
    for (const [k, line] of locateKeys(text)) origins.set(k, { file, line });
    return { tree: _root(tree, file), origins, files: [file] };
  }
  // each parser is loaded for the format it reads: yaml alone is 6 MB of resident memory
  if (/\.ya?ml$/i.test(file)) {
    const [{ LineCounter, parseDocument }, { locateYamlKeys }] = await Promise.all([
      import("yaml"),
      import("./yaml_keys.ts"),
    ]);
    const lc = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lc });
    const err = doc.errors[0];
    if (err !== undefined) {
      const line = lc.linePos(err.pos[0]).line;
      throw new ConfigError(file, line, "(syntax)", `${err.message.split("\n")[0]}; fix the YAML syntax`);
    }
    for (const [k, line] of locateYamlKeys(doc, lc)) origins.set(k, { file, line });
    return { tree: _root(doc.toJS(), file), origins, files: [file] };
  }
  const src = await expandIncludes(text, file, read);
  const { default: hocon } = await import("@pushcorn/hocon-parser");
  let tree: unknown;
  try {
    tree = await hocon({ text: src.text, strict: true });
  } catch (e) {
    throw new ConfigError(file, 0, "(syntax)", `${(e as Error).message}; fix the HOCON syntax`);
  }
  for (const [k, line] of locateKeys(src.text)) origins.set(k, src.origins[line - 1] ?? { file, line: 0 });
  return { tree: _root(tree, file), origins, files: src.files };
}

function _root(tree: unknown, file: string): Record<string, unknown> {
  if (tree === null || tree === undefined) return {};
  if (typeof tree !== "object" || Array.isArray(tree)) {
    throw new ConfigError(file, 1, "(root)", "the file must hold sections (key = value), not a single value");
  }
  return tree as Record<string, unknown>;
}

/**
 * `listeners.ssl.edge { ... }` alone declares the listener "edge", not also an unnamed one on the
 * default port: an SSL/WS/WSS section with named children and no keys of its own is not opened itself.
 */
function _namedOnly(tree: Record<string, unknown>): void {
  const listeners = tree.listeners;
  if (listeners === null || typeof listeners !== "object") return;
  for (const kind of ["ssl", "ws", "wss"]) { // the unnamed TCP listener is always there, as in NanoMQ
    const l = (listeners as Record<string, unknown>)[kind];
    if (l === null || typeof l !== "object" || Array.isArray(l)) continue;
    const values = Object.values(l);
    if (values.length > 0 && values.every((v) => v !== null && typeof v === "object" && !Array.isArray(v))) {
      (l as Record<string, unknown>).enable = false;
    }
  }
}

/** Where `path` (or its nearest ancestor) was written. */
function _originOf(origins: Map<string, Origin>, path: string, source: string): Origin {
  for (let p = path; p !== ""; p = p.slice(0, Math.max(0, p.lastIndexOf(".")))) {
    const o = origins.get(p);
    if (o !== undefined) return o;
  }
  return { file: source, line: 0 };
}

/** Rules that span keys. */
function _crossCheck(cfg: Config, cx: SchemaContext): void {
  const ssl = cfg.listeners.ssl;
  if (ssl !== null) {
    const all = [
      ["listeners.ssl", ssl],
      ...Object.entries(ssl.named).map(([n, l]) => [`listeners.ssl.${n}`, l]),
    ];
    for (const [path, l] of all as [string, typeof ssl][]) {
      if (!l.enable) continue;
      if (l.keyfile === null) {
        cx.fail(`${path}.keyfile`, "is required for a TLS listener: give the PEM key file");
      }
      if (l.certfile === null) {
        cx.fail(`${path}.certfile`, "is required for a TLS listener: give the PEM certificate file");
      }
      if (l.fail_if_no_peer_cert && !l.verify_peer) {
        cx.warn(`${path}.fail_if_no_peer_cert`, "has no effect without verify_peer = true");
      }
    }
  }
  const wss = cfg.listeners.wss;
  if (wss !== null) {
    for (
      const [path, l] of [
        ["listeners.wss", wss],
        ...Object.entries(wss.named).map(([n, x]) => [`listeners.wss.${n}`, x]),
      ] as [string, typeof wss][]
    ) {
      if (l.enable && (l.keyfile ?? ssl?.keyfile ?? null) === null) {
        cx.fail(
          `${path}.keyfile`,
          "is required for a WSS listener: give keyfile and certfile here or in listeners.ssl",
        );
      }
    }
  }
  for (const t of cfg.log.to) {
    if (t === "syslog" || t === "uds") {
      cx.warn("log.to", `"${t}" is not supported; logging to console and file only`);
    }
  }
}
