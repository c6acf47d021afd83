/**
 * vitest's `toEqual` and `toMatchObject` with its `expect.any(...)` and `expect.stringMatching(...)`
 * placeholders, for tests ported from LangGraph's own (vitest) suites, so their expectations read
 * as upstream wrote them. Node 20's assert has no partial deep equality.
 */
import assert from "node:assert/strict";

const MATCHER = Symbol("matcher");

interface Matcher {
  [MATCHER]: true;
  describe: string;
  test(value: unknown): boolean;
}

const matcher = (describe: string, test: (value: unknown) => boolean): Matcher => ({ [MATCHER]: true, describe, test });

export const anyString = matcher("any string", (v) => typeof v === "string");
export const anyNumber = matcher("any number", (v) => typeof v === "number");
export const anyObject = matcher("any object", (v) => typeof v === "object" && v !== null);
export const stringMatching = (re: RegExp): Matcher =>
  matcher(`a string matching ${String(re)}`, (v) => typeof v === "string" && re.test(v));

const isMatcher = (value: unknown): value is Matcher => typeof value === "object" && value !== null && MATCHER in value;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** The first difference between `actual` and `expected`, as a path and a reason, or null. */
function difference(actual: unknown, expected: unknown, partial: boolean, path: string): string | null {
  if (isMatcher(expected)) return expected.test(actual) ? null : `${path}: expected ${expected.describe}`;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array`;
    if (actual.length !== expected.length) return `${path}: expected ${expected.length} items, got ${actual.length}`;
    for (const [i, item] of expected.entries()) {
      const found = difference(actual[i], item, partial, `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (isPlainObject(expected)) {
    if (!isPlainObject(actual)) return `${path}: expected an object`;
    for (const [key, value] of Object.entries(expected)) {
      // vitest's toEqual treats an undefined property as absent.
      if (value === undefined && !partial) continue;
      if (!(key in actual)) return `${path}.${key}: missing`;
      const found = difference(actual[key], value, partial, `${path}.${key}`);
      if (found) return found;
    }
    if (!partial) {
      const extra = Object.keys(actual).filter((key) => !(key in expected) && actual[key] !== undefined);
      if (extra.length > 0) return `${path}: unexpected keys ${extra.join(", ")}`;
    }
    return null;
  }
  return Object.is(actual, expected)
    ? null
    : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

function check(actual: unknown, expected: unknown, partial: boolean): void {
  const found = difference(actual, expected, partial, "$");
  if (found) assert.fail(`${found}\nactual: ${JSON.stringify(actual, null, 1).slice(0, 6000)}`);
}

/** vitest's `expect(actual).toEqual(expected)`. */
export const assertEqual = (actual: unknown, expected: unknown): void => check(actual, expected, false);

/** vitest's `expect(actual).toMatchObject(expected)`: objects may hold more keys; arrays match item by item. */
export const assertMatch = (actual: unknown, expected: unknown): void => check(actual, expected, true);
