/** Programs registered at run time (`PUT /graphs/{graph_id}`), in SQLite. */
import { LANGUAGES, type Language } from "../../contract/types.ts";
import { StoreError } from "../errors.ts";
import type { GraphRecord, GraphStore, NewGraph, PageOptions } from "../types.ts";
import { isJsonObject, jsonObject, oneOf, pageOf, text, toJson } from "../validate.ts";
import type { SqliteContext } from "./context.ts";

interface GraphRow {
  owner: string;
  graph_id: string;
  language: string;
  code: string;
  files: string;
  graph: string | null;
  version: number;
  description: string;
  created_at: number;
  updated_at: number;
}

const toGraph = (row: GraphRow): GraphRecord => ({
  owner: row.owner,
  graphId: row.graph_id,
  language: row.language as Language,
  code: row.code,
  files: JSON.parse(row.files) as Record<string, string>,
  graph: row.graph,
  version: row.version,
  description: JSON.parse(row.description) as Record<string, unknown>,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

function filesJson(files: Record<string, string>): string {
  if (!isJsonObject(files) || !Object.values(files).every((source) => typeof source === "string"))
    throw new StoreError("GBX_STORE_INVALID_ARGUMENT", "files must map module paths to their source text");
  return toJson("files", files);
}

export class SqliteGraphStore implements GraphStore {
  private readonly upsert;
  private readonly select;
  private readonly selectPage;
  private readonly countOwned;
  private readonly deleteGraph;
  private readonly deleteAssistants;

  constructor(private readonly ctx: SqliteContext) {
    const { db } = ctx;
    // One statement registers or replaces, so two replacements at once give versions n+1 and n+2.
    this.upsert = db.prepare<[string, string, string, string, string, string | null, string, number, number], GraphRow>(
      `INSERT INTO graphs (owner, graph_id, language, code, files, graph, version, description, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?)
       ON CONFLICT (owner, graph_id) DO UPDATE SET language = excluded.language, code = excluded.code,
         files = excluded.files, graph = excluded.graph, version = graphs.version + 1,
         description = excluded.description, updated_at = excluded.updated_at
       RETURNING *`,
    );
    this.select = db.prepare<[string, string], GraphRow>("SELECT * FROM graphs WHERE owner = ? AND graph_id = ?");
    this.selectPage = db.prepare<[string, number, number], GraphRow>(
      "SELECT * FROM graphs WHERE owner = ? ORDER BY graph_id LIMIT ? OFFSET ?",
    );
    this.countOwned = db.prepare<[string], { n: number }>("SELECT COUNT(*) AS n FROM graphs WHERE owner = ?");
    this.deleteGraph = db.prepare<[string, string]>("DELETE FROM graphs WHERE owner = ? AND graph_id = ?");
    this.deleteAssistants = db.prepare<[string, string]>("DELETE FROM assistants WHERE owner = ? AND graph_id = ?");
  }

  async put(graph: NewGraph): Promise<GraphRecord> {
    this.ctx.assertOpen();
    const language = oneOf("language", graph.language, LANGUAGES);
    const code = text("code", graph.code);
    const files = filesJson(graph.files);
    if (graph.graph !== null) text("graph", graph.graph);
    const description = toJson("description", jsonObject("description", graph.description));
    const now = this.ctx.now();
    const row = this.upsert.get(
      graph.owner,
      graph.graphId,
      language,
      code,
      files,
      graph.graph,
      description,
      now,
      now,
    ) as GraphRow;
    return toGraph(row);
  }

  async get(owner: string, graphId: string): Promise<GraphRecord | null> {
    this.ctx.assertOpen();
    const row = this.select.get(owner, graphId);
    return row ? toGraph(row) : null;
  }

  async list(owner: string, options?: PageOptions): Promise<GraphRecord[]> {
    this.ctx.assertOpen();
    const { limit, offset } = pageOf(options);
    return this.selectPage.all(owner, limit, offset).map(toGraph);
  }

  async count(owner: string): Promise<number> {
    this.ctx.assertOpen();
    return this.countOwned.get(owner)?.n ?? 0;
  }

  /**
   * Deletes the program and the assistants made of it. An assistant of a deleted graph could not
   * run, would still turn up in searches by graph_id, and would silently attach its config to
   * whatever program is registered under that id next, which may have another state entirely.
   * Threads and runs stay: they are the history of what ran.
   */
  async delete(owner: string, graphId: string): Promise<boolean> {
    this.ctx.assertOpen();
    return this.ctx.db
      .transaction(() => {
        const deleted = this.deleteGraph.run(owner, graphId).changes === 1;
        if (deleted) this.deleteAssistants.run(owner, graphId);
        return deleted;
      })
      .immediate();
  }
}
