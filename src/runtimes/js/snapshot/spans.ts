/**
 * Where the harness's own code lies in the snapshot's bundle, from esbuild's source map: the
 * harness leaves its own frames out of a program's traceback (../harness/errors.mjs), and in the
 * bundle they share one file with the packages' frames.
 */
import type { SourceMapPayload } from "node:module";
import { dirname, resolve } from "node:path";

/** One segment of a source map's "mappings": where it starts in the output, and its source (or -1). */
interface Segment {
  line: number;
  column: number;
  source: number;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Decodes source map v3 "mappings" (base64 VLQ): each segment's output position and source index. */
function segments(mappings: string): Segment[] {
  const out: Segment[] = [];
  let source = 0;
  mappings.split(";").forEach((text, line) => {
    let column = 0;
    for (const segment of text.split(",")) {
      if (!segment) continue;
      const fields: number[] = [];
      let value = 0;
      let shift = 0;
      for (const char of segment) {
        const digit = BASE64.indexOf(char);
        value += (digit & 31) << shift;
        if (digit & 32) shift += 5;
        else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0] ?? 0;
      if (fields.length > 1) source += fields[1] ?? 0;
      out.push({ line, column, source: fields.length > 1 ? source : -1 });
    }
  });
  return out;
}

/**
 * The spans of the bundle that hold the harness's own code, from esbuild's source map, as
 * [fromLine, fromColumn, toLine, toColumn] in stack-frame terms (1-based; `to` just past the end).
 */
export function harnessSpans(
  map: SourceMapPayload,
  outDir: string,
  harnessDir: string,
): [number, number, number, number][] {
  const inHarness = map.sources.map((source) => dirname(resolve(outDir, source)) === harnessDir);
  const spans: [number, number, number, number][] = [];
  let open: [number, number] | null = null;
  for (const { line, column, source } of segments(map.mappings)) {
    const harness = source >= 0 && inHarness[source] === true;
    if (harness && !open) open = [line + 1, column + 1];
    else if (!harness && open && source >= 0) {
      spans.push([...open, line + 1, column + 1]);
      open = null;
    }
  }
  if (open) spans.push([...open, Number.MAX_SAFE_INTEGER, 0]);
  return spans;
}
