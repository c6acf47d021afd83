/**
 * Metadata filters in SQL, so that a search pages over matching rows only and reads no more
 * than one page (a filter applied in code after the read would need every row of the owner).
 *
 * A row matches when its metadata has each key of the filter with a deep-equal value. Searched
 * metadata is stored as canonical JSON (object keys sorted, at every depth), so two equal nested
 * values are the same text, and SQLite renders both sides with `json()` before comparing them.
 * Keys are bound parameters matched against `json_each`, never spliced into a JSON path.
 */
import { StoreError } from "../errors.ts";
import { toJson } from "../validate.ts";

/** JSON text with every object's keys sorted: equal values give equal text. */
export function canonicalJson(name: string, value: unknown): string {
  try {
    return toJson(name, sortKeys(JSON.parse(toJson(name, value)) as unknown));
  } catch (err: unknown) {
    if (err instanceof RangeError)
      throw new StoreError("GBX_STORE_INVALID_ARGUMENT", `${name} is nested too deeply to store`);
    throw err;
  }
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    // defineProperty: a key named __proto__ stays a plain member.
    Object.defineProperty(sorted, key, {
      value: sortKeys((value as Record<string, unknown>)[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return sorted;
}

export interface SqlCondition {
  sql: string;
  params: unknown[];
}

/**
 * The condition "the JSON object in `column` has each key of `filter` with an equal value".
 * `column` is a name from the caller's code; `filter` is already normalised JSON
 * (validate.ts `metadataFilter`).
 */
export function metadataMatches(column: string, filter: Record<string, unknown>): SqlCondition {
  const clauses: string[] = [];
  const params: unknown[] = [];
  for (const [key, want] of Object.entries(filter)) {
    const value = valueMatches(want);
    clauses.push(`EXISTS (SELECT 1 FROM json_each(${column}) AS j WHERE j.key = ? AND ${value.sql})`);
    params.push(key, ...value.params);
  }
  return { sql: clauses.length === 0 ? "1" : clauses.join(" AND "), params };
}

/** `j` (a json_each row) holds a value equal to `want`; the type is compared too, so 1 ≠ "1" ≠ true. */
function valueMatches(want: unknown): SqlCondition {
  if (want === null) return { sql: "j.type = 'null'", params: [] };
  if (want === true) return { sql: "j.type = 'true'", params: [] };
  if (want === false) return { sql: "j.type = 'false'", params: [] };
  if (typeof want === "number") return { sql: "j.type IN ('integer', 'real') AND j.value = ?", params: [want] };
  if (typeof want === "string") return { sql: "j.type = 'text' AND j.value = ?", params: [want] };
  const type = Array.isArray(want) ? "array" : "object";
  return { sql: `j.type = '${type}' AND json(j.value) = json(?)`, params: [canonicalJson("metadata filter", want)] };
}
