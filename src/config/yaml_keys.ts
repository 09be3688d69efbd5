/** Key paths of a YAML configuration with their lines, for error messages. */
import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter } from "yaml";

/** "mqtt.max_packet_size" -> line, for every key in `doc`. */
export function locateYamlKeys(doc: Document, lc: LineCounter): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (node: unknown, path: string): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        if (!isPair(pair) || !isScalar(pair.key)) continue;
        const p = path === "" ? String(pair.key.value) : `${path}.${pair.key.value}`;
        if (pair.key.range !== undefined && pair.key.range !== null) {
          out.set(p, lc.linePos(pair.key.range[0]).line);
        }
        walk(pair.value, p);
      }
    } else if (isSeq(node)) node.items.forEach((item, i) => walk(item, `${path}.${i}`));
  };
  walk(doc.contents, "");
  return out;
}
