/** Engine leases, in SQLite: engines on one machine may share the file (WAL), and lease it like PostgreSQL's. */
import { toLease, type EngineRow } from "../sql.ts";
import type { ClusterStore, EngineLease } from "../types.ts";
import { positiveInteger, text } from "../validate.ts";
import type { SqliteContext } from "./context.ts";

export class SqliteClusterStore implements ClusterStore {
  private readonly renew;
  private readonly insert;
  private readonly selectLive;
  private readonly reap;
  private readonly remove;

  constructor(private readonly ctx: SqliteContext) {
    const { db } = ctx;
    this.renew = db.prepare<[string, number, number, string]>(
      "UPDATE engines SET address = ?, heartbeat_at = ?, expires_at = ? WHERE engine_id = ?",
    );
    this.insert = db.prepare<[string, string, number, number, number]>(
      "INSERT INTO engines (engine_id, address, started_at, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?)",
    );
    this.selectLive = db.prepare<[number], EngineRow>(
      "SELECT * FROM engines WHERE expires_at >= ? ORDER BY started_at, engine_id",
    );
    this.reap = db.prepare<[number], { engine_id: string }>(
      "DELETE FROM engines WHERE expires_at < ? RETURNING engine_id",
    );
    this.remove = db.prepare<[string]>("DELETE FROM engines WHERE engine_id = ?");
  }

  async heartbeat(engine: { engineId: string; address: string }, ttlMs: number): Promise<boolean> {
    this.ctx.assertOpen();
    const engineId = text("engineId", engine.engineId);
    const ttl = positiveInteger("ttlMs", ttlMs);
    return this.ctx.db
      .transaction(() => {
        const now = this.ctx.now();
        if (this.renew.run(engine.address, now, now + ttl, engineId).changes === 1) return true;
        this.insert.run(engineId, engine.address, now, now, now + ttl);
        return false;
      })
      .immediate();
  }

  async live(): Promise<EngineLease[]> {
    this.ctx.assertOpen();
    return this.selectLive.all(this.ctx.now()).map(toLease);
  }

  async reapExpired(): Promise<string[]> {
    this.ctx.assertOpen();
    return this.reap.all(this.ctx.now()).map((row) => row.engine_id);
  }

  async leave(engineId: string): Promise<void> {
    this.ctx.assertOpen();
    this.remove.run(engineId);
  }
}
