/** Programs registered at run time (`PUT /graphs/{graph_id}`), in PostgreSQL. */
import { LANGUAGES, type Language } from "../../contract/types.ts";
import { StoreError } from "../errors.ts";
import type { GraphRecord, GraphStore, NewGraph, PageOptions } from "../types.ts";
import { isJsonObject, jsonObject, oneOf, pageOf } from "../validate.ts";
import type { PostgresContext } from "./context.ts";
import { jsonbText, pgText } from "./values.ts";

interface GraphRow {
  owner: string;
  graph_id: string;
  language: string;
  code: string;
  files: Record<string, string>;
  graph: string | null;
  version: number;
  description: Record<string, unknown>;
  created_at: number;
  updated_at: number;
}

const toGraph = (row: GraphRow): GraphRecord => ({
  owner: row.owner,
  graphId: row.graph_id,
  language: row.language as Language,
  code: row.code,
  files: row.files,
  graph: row.graph,
  version: row.version,
  description: row.description,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const COLUMNS = "owner, graph_id, language, code, files, graph, version, description, created_at, updated_at";

function filesJson(files: Record<string, string>): string {
  if (!isJsonObject(files) || !Object.values(files).every((source) => typeof source === "string"))
    throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "files must map module paths to their source text");
  return jsonbText("files", files);
}

export class PostgresGraphStore implements GraphStore {
  constructor(private readonly ctx: PostgresContext) {}

  async put(graph: NewGraph): Promise<GraphRecord> {
    const values = [
      pgText("owner", graph.owner),
      pgText("graphId", graph.graphId),
      oneOf("language", graph.language, LANGUAGES),
      pgText("code", graph.code),
      filesJson(graph.files),
      graph.graph === null ? null : pgText("graph", graph.graph),
      jsonbText("description", jsonObject("description", graph.description)),
    ];
    const now = this.ctx.now();
    // One statement registers or replaces: two replacements at once give versions n+1 and n+2
    // (the second waits on the row the first updates, then reads its version).
    const [row] = await this.ctx.query<GraphRow>(
      `INSERT INTO graphs (owner, graph_id, language, code, files, graph, version, description, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, 1, $7::jsonb, $8, $8)
       ON CONFLICT (owner, graph_id) DO UPDATE SET language = excluded.language, code = excluded.code,
         files = excluded.files, graph = excluded.graph, version = graphs.version + 1,
         description = excluded.description, updated_at = excluded.updated_at
       RETURNING ${COLUMNS}`,
      [...values, now],
    );
    return toGraph(row as GraphRow);
  }

  async get(owner: string, graphId: string): Promise<GraphRecord | null> {
    const [row] = await this.ctx.query<GraphRow>(`SELECT ${COLUMNS} FROM graphs WHERE owner = $1 AND graph_id = $2`, [
      owner,
      graphId,
    ]);
    return row ? toGraph(row) : null;
  }

  async list(owner: string, options?: PageOptions): Promise<GraphRecord[]> {
    const { limit, offset } = pageOf(options);
    const rows = await this.ctx.query<GraphRow>(
      `SELECT ${COLUMNS} FROM graphs WHERE owner = $1 ORDER BY graph_id LIMIT $2 OFFSET $3`,
      [owner, limit, offset],
    );
    return rows.map(toGraph);
  }

  async count(owner: string): Promise<number> {
    const [row] = await this.ctx.query<{ n: number }>("SELECT count(*)::integer AS n FROM graphs WHERE owner = $1", [
      owner,
    ]);
    return row?.n ?? 0;
  }

  /**
   * Deletes the program and the assistants made of it (see SQLite's side for why); threads and
   * runs stay. Both in one transaction.
   */
  async delete(owner: string, graphId: string): Promise<boolean> {
    this.ctx.assertOpen();
    return this.ctx.transaction(async (client) => {
      const deleted = await client.query("DELETE FROM graphs WHERE owner = $1 AND graph_id = $2", [owner, graphId]);
      if (deleted.rowCount !== 1) return false;
      await client.query("DELETE FROM assistants WHERE owner = $1 AND graph_id = $2", [owner, graphId]);
      return true;
    });
  }
}
