/**
 * LangGraph's long-term memory store (`BaseStore`'s items), per owner, in PostgreSQL.
 *
 * A namespace is kept as the JSON text of its labels, as on SQLite (see `../sqlite/items.ts`), in
 * a COLLATE "C" column: the namespaces under a prefix are one byte range of the primary key.
 */
import { StoreError } from "../errors.ts";
import {
  checkKey,
  checkNamespace,
  compareNamespaces,
  isPlainObject,
  itemJson,
  itemPage,
  matchesItemFilter,
  matchesNamespace,
  namespaceRange,
  WILDCARD,
} from "../items.ts";
import type { ItemLimits, ItemRecord, ItemSearch, ItemStore, NamespaceSearch } from "../types.ts";
import { positiveInteger } from "../validate.ts";
import type { PostgresContext } from "./context.ts";
import { bind } from "./json-filter.ts";
import { holdableJson, jsonbText, pgText } from "./values.ts";

interface ItemRow {
  namespace: string;
  item_key: string;
  value: Record<string, unknown>;
  created_at: number;
  updated_at: number;
  seq: number;
}

const toItem = (row: ItemRow): ItemRecord => ({
  namespace: JSON.parse(row.namespace) as string[],
  key: row.item_key,
  value: row.value,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

/**
 * The first key of the advisory locks a put with `maxItems` takes, the owner's hash the second
 * (the two-key lock space, apart from the migrations' one-key lock). Arbitrary: "gbi" in ASCII.
 */
const ITEMS_LOCK_CLASS = 0x676269;

/** The owner's items, under `prefix` when it has labels: a WHERE clause. */
function under(owner: string, prefix: string[], params: unknown[]): string {
  const ownerIs = `owner = ${bind(params, owner)}`;
  if (prefix.length === 0) return ownerIs;
  const [exact, from, to] = namespaceRange(prefix).map((text) => bind(params, text));
  return `${ownerIs} AND (namespace = ${exact} OR (namespace >= ${from} AND namespace < ${to}))`;
}

/**
 * SQL that narrows a filtered search to rows that may match: each key whose wanted value is a
 * plain JSON value (not an object naming `$` operators) must be equal, an absent key counting as
 * null. Only a narrowing: `matchesItemFilter` decides, in code, as on every backend, so this
 * condition may let through rows the filter refuses but never holds back one it accepts.
 */
function narrowing(filter: Record<string, unknown>, params: unknown[]): string[] {
  const clauses: string[] = [];
  for (const [key, want] of Object.entries(filter)) {
    if (isPlainObject(want) && Object.keys(want).some((k) => k.startsWith("$"))) continue;
    let json: string;
    try {
      json = jsonbText("filter", want);
    } catch {
      continue; // Not JSON PostgreSQL holds: no stored value equals it, and the code says so.
    }
    clauses.push(`COALESCE(value -> ${bind(params, key)}::text, 'null'::jsonb) = ${bind(params, json)}::jsonb`);
  }
  return clauses;
}

const keyOf = (key: string): string => pgText("key", checkKey(key));

const COLUMNS = "namespace, item_key, value, created_at, updated_at, seq";
// Newest first; seq breaks ties within a millisecond, and a put of an existing item takes a new one.
const NEWEST_FIRST = "ORDER BY updated_at DESC, seq DESC";
/** Rows a filtered search reads at a time while it fills its page. */
const SCAN_BATCH = 200;

export class PostgresItemStore implements ItemStore {
  constructor(private readonly ctx: PostgresContext) {}

  async get(owner: string, namespace: string[], key: string): Promise<ItemRecord | null> {
    const ns = checkNamespace("namespace", namespace, { allowEmpty: true });
    const [row] = await this.ctx.query<ItemRow>(
      `SELECT ${COLUMNS} FROM store_items WHERE owner = $1 AND namespace = $2 AND item_key = $3`,
      [owner, JSON.stringify(ns), keyOf(key)],
    );
    return row ? toItem(row) : null;
  }

  /**
   * With `maxItems`, the count and the insert are one transaction under a per-owner advisory lock:
   * two engines writing new items of one owner at once would otherwise each count the other's
   * item as absent and both insert past the limit (a row lock cannot lock a row that does not
   * exist yet, and SERIALIZABLE would fail one of them to be retried). The lock is released at
   * COMMIT or ROLLBACK, or when the connection dies; owners whose names hash alike merely queue.
   */
  async put(
    owner: string,
    item: { namespace: string[]; key: string; value: Record<string, unknown> },
    limits?: ItemLimits,
  ): Promise<void> {
    const values = [
      pgText("owner", owner),
      JSON.stringify(checkNamespace("namespace", item.namespace, { allowEmpty: false })),
      keyOf(item.key),
      holdableJson("the item's value", itemJson(item.value, limits)),
      this.ctx.now(),
    ];
    const maxItems = limits?.maxItems === undefined ? undefined : positiveInteger("maxItems", limits.maxItems);
    const upsert = `INSERT INTO store_items (owner, namespace, item_key, value, created_at, updated_at)
      VALUES ($1, $2, $3, $4::jsonb, $5, $5)
      ON CONFLICT (owner, namespace, item_key) DO UPDATE SET value = excluded.value,
        updated_at = excluded.updated_at, seq = DEFAULT`;
    if (maxItems === undefined) {
      await this.ctx.query(upsert, values);
      return;
    }
    this.ctx.assertOpen();
    await this.ctx.transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [ITEMS_LOCK_CLASS, owner]);
      const { rows } = await client.query<{ existing: boolean; n: number }>(
        `SELECT EXISTS (SELECT 1 FROM store_items WHERE owner = $1 AND namespace = $2 AND item_key = $3) AS existing,
           (SELECT count(*)::integer FROM store_items WHERE owner = $1) AS n`,
        values.slice(0, 3),
      );
      const { existing = false, n = 0 } = rows[0] ?? {};
      if (!existing && n >= maxItems)
        throw new StoreError(
          "GBX_STORE_QUOTA_EXCEEDED",
          `the store already holds ${maxItems} items, the most allowed; delete some to add others`,
        );
      await client.query(upsert, values);
    });
  }

  async delete(owner: string, namespace: string[], key: string): Promise<boolean> {
    const ns = checkNamespace("namespace", namespace, { allowEmpty: true });
    const rows = await this.ctx.query(
      "DELETE FROM store_items WHERE owner = $1 AND namespace = $2 AND item_key = $3 RETURNING 1",
      [owner, JSON.stringify(ns), keyOf(key)],
    );
    return rows.length === 1;
  }

  async search(owner: string, search: ItemSearch): Promise<ItemRecord[]> {
    this.ctx.assertOpen();
    const prefix = checkNamespace("namespacePrefix", search.namespacePrefix, { allowEmpty: true });
    const { limit, offset } = itemPage(search, 10);
    if (limit === 0) return [];
    const params: unknown[] = [];
    const where = [under(owner, prefix, params)];
    if (!search.filter || Object.keys(search.filter).length === 0) {
      const rows = await this.ctx.query<ItemRow>(
        `SELECT ${COLUMNS} FROM store_items WHERE ${where.join(" AND ")} ${NEWEST_FIRST}
         LIMIT ${bind(params, limit)} OFFSET ${bind(params, offset)}`,
        params,
      );
      return rows.map(toItem);
    }
    where.push(...narrowing(search.filter, params));
    // The filter decides in code, so rows are read a batch at a time (after the last one read, in
    // the same order) until the page is full or the rows run out.
    const found: ItemRecord[] = [];
    let skipped = 0;
    let after: ItemRow | undefined;
    for (;;) {
      const batchParams = [...params];
      const afterLast = after
        ? ` AND (updated_at, seq) < (${bind(batchParams, after.updated_at)}, ${bind(batchParams, after.seq)})`
        : "";
      const rows = await this.ctx.query<ItemRow>(
        `SELECT ${COLUMNS} FROM store_items WHERE ${where.join(" AND ")}${afterLast} ${NEWEST_FIRST}
         LIMIT ${bind(batchParams, SCAN_BATCH)}`,
        batchParams,
      );
      for (const row of rows) {
        if (!matchesItemFilter(row.value, search.filter)) continue;
        if (skipped < offset) {
          skipped++;
          continue;
        }
        found.push(toItem(row));
        if (found.length === limit) return found;
      }
      if (rows.length < SCAN_BATCH) return found;
      after = rows[rows.length - 1];
    }
  }

  async listNamespaces(owner: string, search: NamespaceSearch = {}): Promise<string[][]> {
    const prefix = checkNamespace("prefix", search.prefix ?? [], { allowEmpty: true });
    const suffix = checkNamespace("suffix", search.suffix ?? [], { allowEmpty: true });
    const maxDepth = search.maxDepth === undefined ? undefined : positiveInteger("maxDepth", search.maxDepth);
    const { limit, offset } = itemPage(search, 100);
    // The index narrows to the prefix's labels before its first wildcard; the rest is matched in code.
    const wildcard = prefix.indexOf(WILDCARD);
    const literal = wildcard === -1 ? prefix : prefix.slice(0, wildcard);
    const params: unknown[] = [];
    const rows = await this.ctx.query<{ namespace: string }>(
      `SELECT DISTINCT namespace FROM store_items WHERE ${under(owner, literal, params)}`,
      params,
    );
    const seen = new Map<string, string[]>();
    for (const { namespace } of rows) {
      const labels = JSON.parse(namespace) as string[];
      if (!matchesNamespace(labels, { prefix, suffix })) continue;
      const shown = maxDepth === undefined ? labels : labels.slice(0, maxDepth);
      seen.set(JSON.stringify(shown), shown);
    }
    return [...seen.values()].sort(compareNamespaces).slice(offset, offset + limit);
  }
}
