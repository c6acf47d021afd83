/** The Agent API's assistants (a graph with its config, context and metadata), in SQLite. */
import type { AssistantRecord, AssistantSearch, AssistantStore, NewAssistant } from "../types.ts";
import { jsonObject, metadataFilter, pageOf, text, toJson } from "../validate.ts";
import type { SqliteContext } from "./context.ts";
import { canonicalJson, metadataMatches, type SqlCondition } from "./json-filter.ts";
import { orderBy } from "../order.ts";

interface AssistantRow {
  owner: string;
  assistant_id: string;
  graph_id: string;
  name: string;
  description: string | null;
  config: string;
  context: string;
  metadata: string;
  version: number;
  created_at: number;
  updated_at: number;
}

const toAssistant = (row: AssistantRow): AssistantRecord => ({
  owner: row.owner,
  assistantId: row.assistant_id,
  graphId: row.graph_id,
  name: row.name,
  description: row.description,
  config: JSON.parse(row.config) as Record<string, unknown>,
  context: JSON.parse(row.context) as Record<string, unknown>,
  metadata: JSON.parse(row.metadata) as Record<string, unknown>,
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

type Patch = Parameters<AssistantStore["update"]>[2];

const objectColumn = (name: string, value: Record<string, unknown>): string => toJson(name, jsonObject(name, value));
// Searched by key: canonical JSON (see json-filter.ts).
const metadataColumn = (value: Record<string, unknown>): string =>
  canonicalJson("metadata", jsonObject("metadata", value));
const descriptionColumn = (value: string | null): string | null => (value === null ? null : text("description", value));

const SORT_COLUMNS: Record<NonNullable<AssistantSearch["sortBy"]>, string> = {
  assistant_id: "assistant_id",
  graph_id: "graph_id",
  name: "name",
  created_at: "created_at",
  updated_at: "updated_at",
};

export class SqliteAssistantStore implements AssistantStore {
  private readonly insert;
  private readonly select;
  private readonly replace;
  private readonly deleteOne;

  constructor(private readonly ctx: SqliteContext) {
    const { db } = ctx;
    this.insert = db.prepare<[string, string, string, string, string | null, string, string, string, number, number]>(
      `INSERT INTO assistants (owner, assistant_id, graph_id, name, description, config, context, metadata, version, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (owner, assistant_id) DO NOTHING`,
    );
    this.select = db.prepare<[string, string], AssistantRow>(
      "SELECT * FROM assistants WHERE owner = ? AND assistant_id = ?",
    );
    this.replace = db.prepare<[string, string, string | null, string, string, string, number, string, string]>(
      `UPDATE assistants SET graph_id = ?, name = ?, description = ?, config = ?, context = ?, metadata = ?,
         version = version + 1, updated_at = ? WHERE owner = ? AND assistant_id = ?`,
    );
    this.deleteOne = db.prepare<[string, string]>("DELETE FROM assistants WHERE owner = ? AND assistant_id = ?");
  }

  async create(assistant: NewAssistant): Promise<AssistantRecord | null> {
    this.ctx.assertOpen();
    const values = [
      text("assistantId", assistant.assistantId),
      text("graphId", assistant.graphId),
      text("name", assistant.name),
      descriptionColumn(assistant.description),
      objectColumn("config", assistant.config),
      objectColumn("context", assistant.context),
      metadataColumn(assistant.metadata),
    ] as const;
    const now = this.ctx.now();
    return this.ctx.db
      .transaction(() => {
        if (this.insert.run(assistant.owner, ...values, now, now).changes === 0) return null;
        return toAssistant(this.select.get(assistant.owner, assistant.assistantId) as AssistantRow);
      })
      .immediate();
  }

  async get(owner: string, assistantId: string): Promise<AssistantRecord | null> {
    this.ctx.assertOpen();
    const row = this.select.get(owner, assistantId);
    return row ? toAssistant(row) : null;
  }

  async update(owner: string, assistantId: string, patch: Patch): Promise<AssistantRecord | null> {
    this.ctx.assertOpen();
    const graphId = patch.graphId === undefined ? undefined : text("graphId", patch.graphId);
    const name = patch.name === undefined ? undefined : text("name", patch.name);
    const description = patch.description === undefined ? undefined : descriptionColumn(patch.description);
    const config = patch.config === undefined ? undefined : objectColumn("config", patch.config);
    const context = patch.context === undefined ? undefined : objectColumn("context", patch.context);
    const metadata = patch.metadata === undefined ? undefined : jsonObject("metadata", patch.metadata);
    return this.ctx.db
      .transaction(() => {
        const row = this.select.get(owner, assistantId);
        if (!row) return null;
        this.replace.run(
          graphId ?? row.graph_id,
          name ?? row.name,
          description === undefined ? row.description : description,
          config ?? row.config,
          context ?? row.context,
          // Merged (shallow, as the reference); every other given field replaces.
          metadata === undefined
            ? row.metadata
            : metadataColumn({ ...(JSON.parse(row.metadata) as Record<string, unknown>), ...metadata }),
          this.ctx.now(),
          owner,
          assistantId,
        );
        return toAssistant(this.select.get(owner, assistantId) as AssistantRow);
      })
      .immediate();
  }

  async delete(owner: string, assistantId: string): Promise<boolean> {
    this.ctx.assertOpen();
    return this.deleteOne.run(owner, assistantId).changes === 1;
  }

  async search(owner: string, search: AssistantSearch = {}): Promise<AssistantRecord[]> {
    this.ctx.assertOpen();
    const where = this.where(owner, search);
    const order = orderBy(SORT_COLUMNS, {
      sortBy: search.sortBy,
      sortOrder: search.sortOrder,
      fallback: "created_at",
      tiebreak: "assistant_id",
    });
    const { limit, offset } = pageOf(search);
    return this.ctx.db
      .prepare<unknown[], AssistantRow>(`SELECT * FROM assistants WHERE ${where.sql} ${order} LIMIT ? OFFSET ?`)
      .all(...where.params, limit, offset)
      .map(toAssistant);
  }

  async count(owner: string, search: Omit<AssistantSearch, "limit" | "offset"> = {}): Promise<number> {
    this.ctx.assertOpen();
    const where = this.where(owner, search);
    return (
      this.ctx.db
        .prepare<unknown[], { n: number }>(`SELECT count(*) AS n FROM assistants WHERE ${where.sql}`)
        .get(...where.params)?.n ?? 0
    );
  }

  private where(owner: string, search: AssistantSearch): SqlCondition {
    const clauses = ["owner = ?"];
    const params: unknown[] = [owner];
    if (search.graphId !== undefined) {
      clauses.push("graph_id = ?");
      params.push(text("graphId", search.graphId));
    }
    // As the reference: the name contains it, whatever the case (ASCII letters, as SQLite's lower()).
    if (search.name !== undefined) {
      clauses.push("instr(lower(name), lower(?)) > 0");
      params.push(text("name", search.name));
    }
    const filter = metadataFilter(search.metadata);
    if (filter !== undefined) {
      const match = metadataMatches("assistants.metadata", filter);
      clauses.push(match.sql);
      params.push(...match.params);
    }
    return { sql: clauses.join(" AND "), params };
  }
}
