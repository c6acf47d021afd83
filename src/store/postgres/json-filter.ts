/**
 * Searches by JSON value in PostgreSQL's SQL, so that a search pages over matching rows only.
 *
 * A row matches a metadata filter when its JSONB object has each key of the filter with an equal
 * value: JSONB's `=` is deep equality (objects whatever their key order, arrays in order, the JSON
 * type compared too, so 1 ≠ "1" ≠ true), the same as SQLite's side (`../sqlite/json-filter.ts`).
 * A key is a bound parameter (`column -> $n`), never spliced into SQL or a JSON path.
 */
import { jsonbText } from "./values.ts";

/** Adds `value` to a statement's parameters; returns its placeholder (`$1`, `$2`...). */
export function bind(params: unknown[], value: unknown): string {
  params.push(value);
  return `$${params.length}`;
}

/**
 * The condition "the JSONB object in `column` has each key of `filter` with an equal value";
 * a null value needs the key, as on SQLite. `column` is a name from the caller's code; `filter`
 * is already normalised JSON (validate.ts `metadataFilter`).
 */
export function metadataMatches(column: string, filter: Record<string, unknown>, params: unknown[]): string {
  const clauses = Object.entries(filter).map(
    ([key, want]) =>
      `(${column} -> ${bind(params, key)}::text) = ${bind(params, jsonbText("metadata filter", want))}::jsonb`,
  );
  return clauses.length === 0 ? "TRUE" : clauses.join(" AND ");
}
