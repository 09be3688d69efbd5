/** Types for @pushcorn/hocon-parser, which ships none. */
declare module "@pushcorn/hocon-parser" {
  interface ParseOptions {
    text?: string;
    url?: string;
    strict?: boolean;
  }
  export default function parse(opts: ParseOptions): Promise<unknown>;
}
