/** Tells a program's language from its source when the request does not say. */
import type { Language } from "./types.ts";

const PYTHON_SIGNS = [
  /^\s*from\s+[\w.]+\s+import\s+/m,
  /^\s*import\s+[\w.]+(\s+as\s+\w+)?(\s*,\s*[\w.]+)*\s*$/m,
  /^\s*(async\s+)?def\s+\w+\s*\(.*\)\s*(->\s*[^:]+)?:\s*$/m,
  /^\s*class\s+\w+(\(.*\))?\s*:\s*$/m,
];
const JAVASCRIPT_SIGNS = [
  /^\s*import\s+.+\s+from\s+["']/m,
  /^\s*import\s+["']/m,
  /^\s*export\s+(const|let|default|function|async|class)\b/m,
  /\b(const|let|var)\s+[\w{[\]},\s]+=/,
  /=>/,
  /\brequire\(\s*["']/,
];
const TYPESCRIPT_SIGNS = [
  /^\s*(export\s+)?(interface|type)\s+\w+/m,
  /\b(const|let|var)\s+\w+\s*:\s*\w+/,
  /\(\s*\w+\s*:\s*[\w[\]<>{}|"' ]+\s*[,)]/,
  /\bas\s+const\b/,
  /\bimport\s+type\b/,
  // Generic calls and annotations: Annotation<number>(), (state: typeof State.State).
  /\b\w+<[\w\s[\]|,."']+>\s*\(/,
  /:\s*typeof\s+\w+/,
];

const score = (source: string, signs: RegExp[]): number => signs.filter((sign) => sign.test(source)).length;

/** The language the source is written in, or null when the signs are absent or contradict. */
export function detectLanguage(source: string): Language | null {
  const python = score(source, PYTHON_SIGNS);
  const javascript = score(source, JAVASCRIPT_SIGNS);
  if (python > 0 && javascript === 0) return "python";
  if (javascript > 0 && python === 0) return score(source, TYPESCRIPT_SIGNS) > 0 ? "typescript" : "javascript";
  return null;
}
