// @ts-check
// Error reports whose tracebacks show the program's own lines (through its source map) as
// `<workflow>:LINE:COL` (or `state.ts:LINE:COL` in one of its files), count library frames instead
// of listing them, and show no engine path.
import { SourceMap } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inspect } from "node:util";

import { asRuntimePaths } from "./bundled.mjs";
import { packagesHint, PROGRAM_NAME } from "./transpile.mjs";

const RUNTIME_DIR = dirname(dirname(fileURLToPath(import.meta.url)));
const HARNESS_URL = pathToFileURL(dirname(fileURLToPath(import.meta.url))).href;
const MAX_MESSAGE = 4000;
// `    at fn (LOCATION:LINE:COL)` or `    at LOCATION:LINE:COL`
const FRAME = /^\s*at (?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/;

/**
 * Where the program runs from, so its frames can be recognised and mapped. Set once it is written.
 * @type {{ url: string | null, path: string | null, map: SourceMap | null }}
 */
const program = { url: null, path: null, map: null };

/**
 * Under a startup snapshot the harness's code and the packages' share one file (the bundle): the
 * harness's own frames are those within its spans there, listed by the build as
 * [fromLine, fromColumn, toLine, toColumn] (1-based, as in stack frames; `to` is just past the end).
 * @typedef {[number, number, number, number]} Span
 * @type {{ file: string | null, harnessSpans: Span[] }}
 */
const bundle = { file: null, harnessSpans: [] };

/**
 * @param {string} file
 * @param {Span[]} harnessSpans
 */
export function setBundledHarness(file, harnessSpans) {
  bundle.file = file;
  bundle.harnessSpans = harnessSpans;
}

/** @type {(line: number, column: number, otherLine: number, otherColumn: number) => boolean} */
const before = (line, column, otherLine, otherColumn) =>
  line < otherLine || (line === otherLine && column < otherColumn);

/**
 * @param {string} location
 * @param {number} line
 * @param {number} column
 */
function isHarnessFrame(location, line, column) {
  if (location.startsWith(HARNESS_URL)) return true;
  if (location !== bundle.file) return false;
  return bundle.harnessSpans.some(
    ([fromLine, fromColumn, toLine, toColumn]) =>
      !before(line, column, fromLine, fromColumn) && before(line, column, toLine, toColumn),
  );
}

/**
 * @param {string} url
 * @param {import("node:module").SourceMapPayload | null} sourceMap
 */
export function setProgram(url, sourceMap) {
  program.url = url;
  program.path = fileURLToPath(url);
  program.map = sourceMap ? new SourceMap(sourceMap) : null;
}

/**
 * Replaces the paths a message may carry (the program's file, the runtime's install) with names.
 * @param {unknown} text
 */
export function scrub(text) {
  let out = asRuntimePaths(String(text));
  if (program.url && program.path)
    out = out.split(program.url).join(PROGRAM_NAME).split(program.path).join(PROGRAM_NAME);
  return out.split(pathToFileURL(RUNTIME_DIR).href).join("<runtime>").split(RUNTIME_DIR).join("<runtime>");
}

/**
 * @param {unknown} err
 * @returns {err is { message: string, name?: unknown, stack?: unknown, constructor?: { name?: unknown } }}
 */
function isErrorLike(err) {
  return (
    typeof err === "object" && err !== null && typeof (/** @type {{ message?: unknown }} */ (err).message) === "string"
  );
}

/** @param {{ name?: unknown, constructor?: { name?: unknown } }} err */
function nameOf(err) {
  const name = typeof err.name === "string" && err.name ? err.name : "Error";
  const ctor = err.constructor?.name;
  // A subclass that did not set `name` still says what it is, as Python's type(err).__name__ does.
  return name === "Error" && typeof ctor === "string" && ctor && ctor !== "Object" ? ctor : name;
}

/**
 * `RangeError: value too large: 42`; for a thrown non-Error, what was thrown.
 * @param {unknown} err
 */
export function describe(err) {
  if (!isErrorLike(err))
    return scrub(
      `Error: the program threw a non-Error value: ${inspect(err, { depth: 2, breakLength: Infinity })}`,
    ).slice(0, MAX_MESSAGE);
  let text = err.message ? `${nameOf(err)}: ${err.message}` : nameOf(err);
  // An import() of a computed name fails at run time (transpile.mjs words the ones it sees in the source).
  const missing =
    /** @type {{ code?: unknown }} */ (err).code === "ERR_MODULE_NOT_FOUND"
      ? /^Cannot find package '([^']+)'/.exec(err.message)?.[1]
      : undefined;
  if (missing) text += `; ${packagesHint(missing)}`;
  return scrub(text).slice(0, MAX_MESSAGE);
}

/**
 * `<workflow>:L:C` (`<file>:L:C` in one of the program's files) for a position in the generated
 * module, or null when the map has no entry.
 * @param {number} line
 * @param {number} column
 */
function programPosition(line, column) {
  if (!program.map) return `${PROGRAM_NAME}:${line}:${column}`;
  const entry = program.map.findEntry(line - 1, column - 1);
  // An empty object where the map has no entry.
  if (!entry || !("originalLine" in entry) || entry.originalLine === undefined) return null;
  return `${entry.originalSource || PROGRAM_NAME}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
}

/**
 * The stack of `err`: the program's frames mapped, library frames counted, harness frames dropped.
 * @param {unknown} err
 */
export function programTraceback(err) {
  const lines = [describe(err)];
  if (!isErrorLike(err) || typeof err.stack !== "string") return lines.join("\n");
  let hidden = 0;
  const flushHidden = () => {
    if (hidden) lines.push(`    ... ${hidden} frame(s) in LangGraph, libraries and Node`);
    hidden = 0;
  };
  for (const raw of err.stack.split("\n")) {
    const frame = FRAME.exec(raw);
    if (!frame) continue; // the message lines (already in the first line) and `at async Promise.all (index 0)`
    const [, fn, location, line, column] = frame;
    if (location === program.url || location === program.path) {
      const position = programPosition(Number(line), Number(column));
      if (position === null) continue; // esbuild's own helpers, not the program's text
      flushHidden();
      lines.push(fn ? `    at ${fn} (${position})` : `    at ${position}`);
    } else if (!isHarnessFrame(/** @type {string} */ (location), Number(line), Number(column))) {
      hidden += 1;
    }
  }
  flushHidden();
  return lines.join("\n");
}

/**
 * @typedef {Error & { location: import("./types.js").SourceLocation | null }} LocatedError
 */

/**
 * Node-style report of an error found in the source before it ran (syntax, imports): where, the line, a caret, what.
 * @param {LocatedError} err
 */
export function sourceTraceback(err) {
  const loc = err.location;
  if (!loc) return `${err.name}: ${err.message}`;
  const caret = `${" ".repeat(Math.max(0, loc.column - 1))}^`;
  return `${loc.file ?? PROGRAM_NAME}:${loc.line}:${loc.column}\n${loc.lineText ?? ""}\n${caret}\n\n${err.name}: ${err.message}`;
}

/**
 * The one-line error of a syntax or import error, with its place.
 * @param {LocatedError} err
 */
export function describeAt(err) {
  const loc = err.location;
  return loc
    ? `${err.name}: ${err.message} (${loc.file ?? PROGRAM_NAME}:${loc.line}:${loc.column})`
    : `${err.name}: ${err.message}`;
}
