/**
 * The ORDER BY of a search, for both backends: the caller's sort key is looked up in the caller's
 * allow-list of columns, never spliced into SQL. Sorted columns are NOT NULL, and PostgreSQL's
 * text ones COLLATE "C", so both order alike (byte order, no NULLS FIRST/LAST to agree on).
 */
import { oneOf, SORT_ORDERS } from "./validate.ts";

export interface OrderOptions<K extends string> {
  /** The caller's sort key; default `fallback`. */
  sortBy: K | undefined;
  /** Default `desc` (the Agent API's newest first). */
  sortOrder: "asc" | "desc" | undefined;
  fallback: K;
  /** A unique column last, so that rows that tie keep one order from page to page. */
  tiebreak: string;
}

export function orderBy<K extends string>(columns: Record<K, string>, options: OrderOptions<K>): string {
  const key = oneOf("sortBy", options.sortBy ?? options.fallback, Object.keys(columns) as K[]);
  const order = oneOf("sortOrder", options.sortOrder ?? "desc", SORT_ORDERS) === "asc" ? "ASC" : "DESC";
  return `ORDER BY ${columns[key]} ${order}, ${options.tiebreak} ${order}`;
}
