/**
 * Tells a program's language from its source when the request does not say.
 *
 * The source is the caller's, up to the body limit, and detection runs on the engine's event
 * loop: signs are looked for line by line, in lines of at most MAX_LINE_CHARS, so no pattern can
 * backtrack across the whole source (`^\s*` with the m flag over a megabyte of newlines took
 * minutes: each line start re-scanned every newline after it).
 */
import type { Language } from "../contract/types.ts";

/** Longer lines are data (a long string, minified code), not signs of a language. */
const MAX_LINE_CHARS = 400;

const PYTHON_SIGNS = [
  /^\s*from\s+[\w.]+\s+import\s+/,
  /^\s*import\s+[\w.]+(\s+as\s+\w+)?(\s*,\s*[\w.]+)*\s*$/,
  /^\s*(async\s+)?def\s+\w+\s*\([^)]*\)\s*(->[^:]*)?:\s*$/,
  /^\s*class\s+\w+(\([^)]*\))?\s*:\s*$/,
];
const JAVASCRIPT_SIGNS = [
  /^\s*import\s+.+\s+from\s+["']/,
  /^\s*import\s+["']/,
  /^\s*export\s+(const|let|default|function|async|class)\b/,
  /\b(const|let|var)\s+[\w{[\]},\s]+=/,
  /=>/,
  /\brequire\(\s*["']/,
];
const TYPESCRIPT_SIGNS = [
  /^\s*(export\s+)?(interface|type)\s+\w+/,
  /\b(const|let|var)\s+\w+\s*:\s*\w+/,
  /\(\s*\w+\s*:\s*[\w[\]<>{}|"' ]+\s*[,)]/,
  /\bas\s+const\b/,
  /\bimport\s+type\b/,
  // Generic calls and annotations: Annotation<number>(), (state: typeof State.State).
  /\b\w+<[\w\s[\]|,."']+>\s*\(/,
  /:\s*typeof\s+\w+/,
];

/** How many of the signs appear on some line of the source (each sign is looked for until found). */
function score(lines: string[], signs: RegExp[]): number {
  const left = new Set(signs);
  for (const line of lines) {
    for (const sign of left) if (sign.test(line)) left.delete(sign);
    if (left.size === 0) break;
  }
  return signs.length - left.size;
}

/** The language the source is written in, or null when the signs are absent or contradict. */
export function detectLanguage(source: string): Language | null {
  const lines = source.split("\n").filter((line) => line.length <= MAX_LINE_CHARS && line.trim() !== "");
  const python = score(lines, PYTHON_SIGNS);
  const javascript = score(lines, JAVASCRIPT_SIGNS);
  if (python > 0 && javascript === 0) return "python";
  if (javascript > 0 && python === 0) return score(lines, TYPESCRIPT_SIGNS) > 0 ? "typescript" : "javascript";
  return null;
}
