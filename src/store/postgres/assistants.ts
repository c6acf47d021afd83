/** The Agent API's assistants (a graph with its config, context and metadata), in PostgreSQL. */
import type { AssistantRecord, AssistantSearch, AssistantStore, NewAssistant } from "../types.ts";
import { jsonObject, metadataFilter, pageOf } from "../validate.ts";
import type { PostgresContext } from "./context.ts";
import { bind, metadataMatches } from "./json-filter.ts";
import { orderBy } from "../order.ts";
import { jsonbText, pgText } from "./values.ts";

interface AssistantRow {
  owner: string;
  assistant_id: string;
  graph_id: string;
  name: string;
  description: string | null;
  config: Record<string, unknown>;
  context: Record<string, unknown>;
  metadata: Record<string, unknown>;
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
  config: row.config,
  context: row.context,
  metadata: row.metadata,
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

type Patch = Parameters<AssistantStore["update"]>[2];

const COLUMNS =
  "owner, assistant_id, graph_id, name, description, config, context, metadata, version, created_at, updated_at";

const objectColumn = (name: string, value: Record<string, unknown>): string => jsonbText(name, jsonObject(name, value));
const descriptionColumn = (value: string | null): string | null =>
  value === null ? null : pgText("description", value);

const SORT_COLUMNS: Record<NonNullable<AssistantSearch["sortBy"]>, string> = {
  assistant_id: "assistant_id",
  graph_id: "graph_id",
  name: "name",
  created_at: "created_at",
  updated_at: "updated_at",
};

export class PostgresAssistantStore implements AssistantStore {
  constructor(private readonly ctx: PostgresContext) {}

  async create(assistant: NewAssistant): Promise<AssistantRecord | null> {
    const values = [
      pgText("owner", assistant.owner),
      pgText("assistantId", assistant.assistantId),
      pgText("graphId", assistant.graphId),
      pgText("name", assistant.name),
      descriptionColumn(assistant.description),
      objectColumn("config", assistant.config),
      objectColumn("context", assistant.context),
      objectColumn("metadata", assistant.metadata),
      this.ctx.now(),
    ];
    const [row] = await this.ctx.query<AssistantRow>(
      `INSERT INTO assistants (owner, assistant_id, graph_id, name, description, config, context, metadata, version, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, 1, $9, $9)
       ON CONFLICT (owner, assistant_id) DO NOTHING RETURNING ${COLUMNS}`,
      values,
    );
    return row ? toAssistant(row) : null;
  }

  async get(owner: string, assistantId: string): Promise<AssistantRecord | null> {
    const [row] = await this.ctx.query<AssistantRow>(
      `SELECT ${COLUMNS} FROM assistants WHERE owner = $1 AND assistant_id = $2`,
      [owner, assistantId],
    );
    return row ? toAssistant(row) : null;
  }

  /**
   * One statement: a field not given keeps the row's value, metadata is merged with JSONB's `||`
   * (top-level keys replaced: the reference's shallow merge), so two updates at once both apply.
   */
  async update(owner: string, assistantId: string, patch: Patch): Promise<AssistantRecord | null> {
    const values = [
      owner,
      assistantId,
      patch.graphId === undefined ? null : pgText("graphId", patch.graphId),
      patch.name === undefined ? null : pgText("name", patch.name),
      patch.description !== undefined,
      patch.description === undefined ? null : descriptionColumn(patch.description),
      patch.config === undefined ? null : objectColumn("config", patch.config),
      patch.context === undefined ? null : objectColumn("context", patch.context),
      patch.metadata === undefined ? null : objectColumn("metadata", patch.metadata),
      this.ctx.now(),
    ];
    const [row] = await this.ctx.query<AssistantRow>(
      `UPDATE assistants SET graph_id = COALESCE($3, graph_id), name = COALESCE($4, name),
         description = CASE WHEN $5::boolean THEN $6 ELSE description END,
         config = COALESCE($7::jsonb, config), context = COALESCE($8::jsonb, context),
         metadata = metadata || COALESCE($9::jsonb, '{}'::jsonb),
         version = version + 1, updated_at = $10
       WHERE owner = $1 AND assistant_id = $2 RETURNING ${COLUMNS}`,
      values,
    );
    return row ? toAssistant(row) : null;
  }

  async delete(owner: string, assistantId: string): Promise<boolean> {
    const rows = await this.ctx.query("DELETE FROM assistants WHERE owner = $1 AND assistant_id = $2 RETURNING 1", [
      owner,
      assistantId,
    ]);
    return rows.length === 1;
  }

  async search(owner: string, search: AssistantSearch = {}): Promise<AssistantRecord[]> {
    const params: unknown[] = [];
    const where = this.where(owner, search, params);
    const order = orderBy(SORT_COLUMNS, {
      sortBy: search.sortBy,
      sortOrder: search.sortOrder,
      fallback: "created_at",
      tiebreak: "assistant_id",
    });
    const { limit, offset } = pageOf(search);
    const rows = await this.ctx.query<AssistantRow>(
      `SELECT ${COLUMNS} FROM assistants WHERE ${where} ${order} LIMIT ${bind(params, limit)} OFFSET ${bind(params, offset)}`,
      params,
    );
    return rows.map(toAssistant);
  }

  async count(owner: string, search: Omit<AssistantSearch, "limit" | "offset"> = {}): Promise<number> {
    const params: unknown[] = [];
    const where = this.where(owner, search, params);
    const [row] = await this.ctx.query<{ n: number }>(
      `SELECT count(*)::integer AS n FROM assistants WHERE ${where}`,
      params,
    );
    return row?.n ?? 0;
  }

  private where(owner: string, search: AssistantSearch, params: unknown[]): string {
    const clauses = [`owner = ${bind(params, owner)}`];
    if (search.graphId !== undefined) clauses.push(`graph_id = ${bind(params, pgText("graphId", search.graphId))}`);
    // As the reference: the name contains it, whatever the case of ASCII letters (lower() under
    // "C" folds only those, as SQLite's does).
    if (search.name !== undefined)
      clauses.push(`strpos(lower(name), lower(${bind(params, pgText("name", search.name))}::text COLLATE "C")) > 0`);
    const filter = metadataFilter(search.metadata);
    if (filter !== undefined) clauses.push(metadataMatches("metadata", filter, params));
    return clauses.join(" AND ");
  }
}
