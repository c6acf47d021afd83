/**
 * LangGraph's long-term memory store (`BaseStore`'s items), per owner, in SQLite.
 *
 * A namespace is kept as the JSON text of its labels (`["users","u1"]`), never joined with a
 * separator a label might contain. JSON writes each label as one string token that ends at its
 * one unescaped quote, so the namespaces under the prefix `["users"` are exactly the text
 * `["users"]` and the texts from `["users",` up to (not including) `["users"-`: one range of the
 * (owner, namespace, key) index, exact on label boundaries whatever the labels hold.
 */
import { StoreError } from "../errors.ts";
import {
  checkKey,
  checkNamespace,
  compareNamespaces,
  itemJson,
  itemPage,
  matchesItemFilter,
  matchesNamespace,
  namespaceRange,
  WILDCARD,
} from "../items.ts";
import type { ItemLimits, ItemRecord, ItemSearch, ItemStore, NamespaceSearch } from "../types.ts";
import { positiveInteger } from "../validate.ts";
import type { SqliteContext } from "./context.ts";

interface ItemRow {
  namespace: string;
  item_key: string;
  value: string;
  created_at: number;
  updated_at: number;
}

const toItem = (row: ItemRow, value = JSON.parse(row.value) as Record<string, unknown>): ItemRecord => ({
  namespace: JSON.parse(row.namespace) as string[],
  key: row.item_key,
  value,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const COLUMNS = "namespace, item_key, value, created_at, updated_at";
// Newest first; rowid breaks ties within a millisecond, since a put writes its row anew (see put).
const NEWEST_FIRST = "ORDER BY updated_at DESC, rowid DESC";

export class SqliteItemStore implements ItemStore {
  private readonly selectOne;
  private readonly selectCreated;
  private readonly countOwner;
  private readonly insert;
  private readonly deleteOne;
  private readonly selectAll;
  private readonly selectUnder;
  private readonly namespacesAll;
  private readonly namespacesUnder;

  constructor(private readonly ctx: SqliteContext) {
    const { db } = ctx;
    this.selectOne = db.prepare<[string, string, string], ItemRow>(
      `SELECT ${COLUMNS} FROM store_items WHERE owner = ? AND namespace = ? AND item_key = ?`,
    );
    this.selectCreated = db.prepare<[string, string, string], { created_at: number }>(
      "SELECT created_at FROM store_items WHERE owner = ? AND namespace = ? AND item_key = ?",
    );
    this.countOwner = db.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM store_items WHERE owner = ?");
    this.insert = db.prepare<[string, string, string, string, number, number]>(
      "INSERT INTO store_items (owner, namespace, item_key, value, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.deleteOne = db.prepare<[string, string, string]>(
      "DELETE FROM store_items WHERE owner = ? AND namespace = ? AND item_key = ?",
    );
    this.selectAll = db.prepare<[string], ItemRow>(
      `SELECT ${COLUMNS} FROM store_items WHERE owner = ? ${NEWEST_FIRST}`,
    );
    this.selectUnder = db.prepare<[string, string, string, string], ItemRow>(
      `SELECT ${COLUMNS} FROM store_items WHERE owner = ? AND (namespace = ? OR (namespace >= ? AND namespace < ?)) ${NEWEST_FIRST}`,
    );
    this.namespacesAll = db.prepare<[string], { namespace: string }>(
      "SELECT DISTINCT namespace FROM store_items WHERE owner = ?",
    );
    this.namespacesUnder = db.prepare<[string, string, string, string], { namespace: string }>(
      "SELECT DISTINCT namespace FROM store_items WHERE owner = ? AND (namespace = ? OR (namespace >= ? AND namespace < ?))",
    );
  }

  async get(owner: string, namespace: string[], key: string): Promise<ItemRecord | null> {
    this.ctx.assertOpen();
    const ns = checkNamespace("namespace", namespace, { allowEmpty: true });
    const row = this.selectOne.get(owner, JSON.stringify(ns), checkKey(key));
    return row ? toItem(row) : null;
  }

  async put(
    owner: string,
    item: { namespace: string[]; key: string; value: Record<string, unknown> },
    limits?: ItemLimits,
  ): Promise<void> {
    this.ctx.assertOpen();
    const namespace = JSON.stringify(checkNamespace("namespace", item.namespace, { allowEmpty: false }));
    const key = checkKey(item.key);
    const value = itemJson(item.value, limits);
    const maxItems = limits?.maxItems === undefined ? Infinity : positiveInteger("maxItems", limits.maxItems);
    const now = this.ctx.now();
    this.ctx.db
      .transaction(() => {
        const existing = this.selectCreated.get(owner, namespace, key);
        if (existing) {
          // Written anew (not updated in place) so that its rowid orders it after the items of the same millisecond.
          this.deleteOne.run(owner, namespace, key);
        } else if ((this.countOwner.get(owner)?.n ?? 0) >= maxItems) {
          throw new StoreError(
            "GBX_STORE_QUOTA_EXCEEDED",
            `the store already holds ${maxItems} items, the most allowed; delete some to add others`,
          );
        }
        this.insert.run(owner, namespace, key, value, existing?.created_at ?? now, now);
      })
      .immediate();
  }

  async delete(owner: string, namespace: string[], key: string): Promise<boolean> {
    this.ctx.assertOpen();
    const ns = checkNamespace("namespace", namespace, { allowEmpty: true });
    return this.deleteOne.run(owner, JSON.stringify(ns), checkKey(key)).changes === 1;
  }

  async search(owner: string, search: ItemSearch): Promise<ItemRecord[]> {
    this.ctx.assertOpen();
    const prefix = checkNamespace("namespacePrefix", search.namespacePrefix, { allowEmpty: true });
    const { limit, offset } = itemPage(search, 10);
    if (limit === 0) return [];
    const rows =
      prefix.length === 0 ? this.selectAll.iterate(owner) : this.selectUnder.iterate(owner, ...namespaceRange(prefix));
    const found: ItemRecord[] = [];
    let skipped = 0;
    // The filter is applied in code (see items.ts), so rows are read until the page is full.
    for (const row of rows) {
      // Only the value is read before the filter: a filtered search may scan all the owner's items.
      const value = JSON.parse(row.value) as Record<string, unknown>;
      if (!matchesItemFilter(value, search.filter)) continue;
      if (skipped < offset) {
        skipped++;
        continue;
      }
      found.push(toItem(row, value));
      if (found.length === limit) {
        // Leaving the loop early ends the statement's iteration (its return()).
        break;
      }
    }
    return found;
  }

  async listNamespaces(owner: string, search: NamespaceSearch = {}): Promise<string[][]> {
    this.ctx.assertOpen();
    const prefix = checkNamespace("prefix", search.prefix ?? [], { allowEmpty: true });
    const suffix = checkNamespace("suffix", search.suffix ?? [], { allowEmpty: true });
    const maxDepth = search.maxDepth === undefined ? undefined : positiveInteger("maxDepth", search.maxDepth);
    const { limit, offset } = itemPage(search, 100);
    // The index narrows to the prefix's labels before its first wildcard; the rest is matched in code.
    const wildcard = prefix.indexOf(WILDCARD);
    const literal = wildcard === -1 ? prefix : prefix.slice(0, wildcard);
    const rows =
      literal.length === 0
        ? this.namespacesAll.all(owner)
        : this.namespacesUnder.all(owner, ...namespaceRange(literal));
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
