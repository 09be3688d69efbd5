/** A configuration problem, located by file, line and key path. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly key: string,
    detail: string,
  ) {
    super(`${file}${line > 0 ? `:${line}` : ""}: ${key}: ${detail}`);
    this.name = "ConfigError";
  }
}
