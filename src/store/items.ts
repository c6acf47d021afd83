/**
 * Rules of LangGraph's long-term memory store that every `ItemStore` backend shares: how large a
 * namespace and a key may be, how a search's filter matches a value, how a namespace matches
 * `listNamespaces`' prefix and suffix, and the order namespaces are listed in. Done in code rather
 * than SQL so that every backend agrees on nested values, key order and wildcards.
 */
import { isDeepStrictEqual } from "node:util";

import { StoreError } from "./errors.ts";
import type { ItemLimits } from "./types.ts";
import { MAX_LIMIT, nonNegativeInteger } from "./validate.ts";

/** Labels in one namespace (LangGraph has no bound; its examples use 2 or 3). */
export const MAX_NAMESPACE_LABELS = 16;
/** Characters in one namespace label. */
export const MAX_LABEL_CHARS = 256;
/** Characters in one item key. */
export const MAX_KEY_CHARS = 1024;
/** `listNamespaces`' wildcard label: matches any one label (LangGraph's `MatchCondition`). */
export const WILDCARD = "*";

const invalid = (message: string): StoreError => new StoreError("GBX_STORE_INVALID_ARGUMENT", message);

/**
 * Checks a namespace: a list of non-empty strings within the bounds. Any character is allowed in a
 * label (dots included: backends must not join labels with a separator a label may contain).
 */
export function checkNamespace(name: string, namespace: unknown, options: { allowEmpty: boolean }): string[] {
  if (!Array.isArray(namespace)) throw invalid(`${name} must be a list of strings`);
  if (namespace.length === 0 && !options.allowEmpty) throw invalid(`${name} must have at least one label`);
  if (namespace.length > MAX_NAMESPACE_LABELS)
    throw invalid(`${name} has ${namespace.length} labels, more than the ${MAX_NAMESPACE_LABELS} allowed`);
  for (const label of namespace as unknown[]) {
    if (typeof label !== "string" || label.length === 0) throw invalid(`${name}'s labels must be non-empty strings`);
    if (label.length > MAX_LABEL_CHARS)
      throw invalid(`${name} has a label of ${label.length} characters, more than the ${MAX_LABEL_CHARS} allowed`);
  }
  return namespace as string[];
}

export function checkKey(key: unknown): string {
  if (typeof key !== "string") throw invalid("an item's key must be a string");
  if (key.length > MAX_KEY_CHARS)
    throw invalid(`an item's key has ${key.length} characters, more than the ${MAX_KEY_CHARS} allowed`);
  return key;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Refuses a value whose JSON is over `limits.maxItemBytes`; returns the JSON. */
export function itemJson(value: unknown, limits: ItemLimits | undefined): string {
  if (!isPlainObject(value)) throw invalid("an item's value must be a JSON object");
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (err: unknown) {
    throw invalid(`an item's value is not JSON-serialisable: ${err instanceof Error ? err.message : String(err)}`);
  }
  const bytes = Buffer.byteLength(json);
  if (limits?.maxItemBytes !== undefined && bytes > limits.maxItemBytes) {
    throw new StoreError(
      "GBX_STORE_QUOTA_EXCEEDED",
      `the item's value is ${bytes} bytes of JSON, over the limit of ${limits.maxItemBytes} bytes`,
    );
  }
  return json;
}

/** The comparison operators of LangGraph's store filters (`{"score": {"$gt": 3}}`). */
const OPERATORS = new Set(["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin"]);

const isOperatorObject = (want: unknown): want is Record<string, unknown> =>
  isPlainObject(want) && Object.keys(want).length > 0 && Object.keys(want).every((k) => OPERATORS.has(k));

/** Orders two numbers, or two strings; null when they cannot be ordered. */
function order(have: unknown, want: unknown): number | null {
  if (typeof have === "number" && typeof want === "number") return have - want;
  if (typeof have === "string" && typeof want === "string") return have < want ? -1 : have > want ? 1 : 0;
  return null;
}

function applyOperator(have: unknown, operator: string, want: unknown): boolean {
  const ordered = order(have, want);
  switch (operator) {
    case "$eq":
      return isDeepStrictEqual(have, want);
    case "$ne":
      return !isDeepStrictEqual(have, want);
    case "$gt":
      return ordered !== null && ordered > 0;
    case "$gte":
      return ordered !== null && ordered >= 0;
    case "$lt":
      return ordered !== null && ordered < 0;
    case "$lte":
      return ordered !== null && ordered <= 0;
    case "$in":
      return Array.isArray(want) && want.some((w) => isDeepStrictEqual(have, w));
    default: // $nin
      return !Array.isArray(want) || !want.some((w) => isDeepStrictEqual(have, w));
  }
}

/**
 * A search filter: the value has each key with a deeply equal value (an absent key equals null,
 * as Python's `value.get(key) == None`), or, when the filter's value is an object of operators
 * only, passes each of them (LangGraph's `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte`, `$in`, `$nin`;
 * ordering compares two numbers or two strings, anything else does not match).
 */
export function matchesItemFilter(
  value: Record<string, unknown>,
  filter: Record<string, unknown> | undefined,
): boolean {
  if (!filter) return true;
  for (const [key, want] of Object.entries(filter)) {
    const have = Object.hasOwn(value, key) ? value[key] : null;
    if (isOperatorObject(want)) {
      for (const [operator, operand] of Object.entries(want)) if (!applyOperator(have, operator, operand)) return false;
    } else if (!isDeepStrictEqual(have, want ?? null)) return false;
  }
  return true;
}

/** Whether the namespace starts (`prefix`) or ends (`suffix`) with these labels, `*` matching any one. */
export function matchesNamespace(namespace: string[], search: { prefix?: string[]; suffix?: string[] }): boolean {
  const matchAt = (path: string[], offset: number): boolean =>
    path.every((label, i) => label === WILDCARD || label === namespace[offset + i]);
  const { prefix = [], suffix = [] } = search;
  if (prefix.length > namespace.length || suffix.length > namespace.length) return false;
  return matchAt(prefix, 0) && matchAt(suffix, namespace.length - suffix.length);
}

/** Label by label, a namespace before the ones it is a prefix of (LangGraph sorts the tuples). */
export function compareNamespaces(a: string[], b: string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * A namespace's JSON text, and the range of the texts of the namespaces below it: `["a","b"]` is
 * `["a","b"]` itself, or from `["a","b",` to `["a","b"-` (`-` is the byte after `,`). Both
 * backends keep a namespace as that text, compared byte by byte.
 */
export function namespaceRange(prefix: string[]): [exact: string, from: string, to: string] {
  const open = JSON.stringify(prefix).slice(0, -1);
  return [`${open}]`, `${open},`, `${open}-`];
}

/** LangGraph's defaults: 10 items a search, 100 namespaces a listing; 0 is allowed and finds nothing. */
export function itemPage(
  options: { limit?: number; offset?: number },
  fallback: number,
): { limit: number; offset: number } {
  const limit = nonNegativeInteger("limit", options.limit ?? fallback);
  return { limit: Math.min(limit, MAX_LIMIT), offset: nonNegativeInteger("offset", options.offset ?? 0) };
}
