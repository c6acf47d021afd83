/** Engines' leases on one database, in PostgreSQL's `engines` table. */
import { toLease, type EngineRow } from "../sql.ts";
import type { ClusterStore, EngineLease } from "../types.ts";
import { positiveInteger, text } from "../validate.ts";
import type { PostgresContext } from "./context.ts";

export class PostgresClusterStore implements ClusterStore {
  constructor(private readonly ctx: PostgresContext) {}

  async heartbeat(engine: { engineId: string; address: string }, ttlMs: number): Promise<boolean> {
    this.ctx.assertOpen();
    text("engineId", engine.engineId);
    text("address", engine.address);
    positiveInteger("ttlMs", ttlMs);
    const now = this.ctx.now();
    const params = [engine.engineId, engine.address, now, now + ttlMs];
    // Renewed only while the row is there: a reaper that deleted it (after its expiry) waits for
    // no one, and an UPDATE that waited on the reaper's lock finds nothing and registers anew.
    const renewed = await this.ctx.query(
      "UPDATE engines SET address = $2, heartbeat_at = $3, expires_at = $4 WHERE engine_id = $1 RETURNING 1",
      params,
    );
    if (renewed.length === 1) return true;
    await this.ctx.query(
      `INSERT INTO engines (engine_id, address, started_at, heartbeat_at, expires_at) VALUES ($1, $2, $3, $3, $4)
       ON CONFLICT (engine_id) DO UPDATE SET address = excluded.address, heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
      params,
    );
    return false;
  }

  async live(): Promise<EngineLease[]> {
    this.ctx.assertOpen();
    const rows = await this.ctx.query<EngineRow>(
      "SELECT engine_id, address, started_at, heartbeat_at, expires_at FROM engines WHERE expires_at >= $1 ORDER BY started_at, engine_id",
      [this.ctx.now()],
    );
    return rows.map(toLease);
  }

  async reapExpired(): Promise<string[]> {
    this.ctx.assertOpen();
    // DELETE ... RETURNING: a lease reaped by two engines at once is returned to one of them.
    const rows = await this.ctx.query<{ engine_id: string }>(
      "DELETE FROM engines WHERE expires_at < $1 RETURNING engine_id",
      [this.ctx.now()],
    );
    return rows.map((row) => row.engine_id).sort();
  }

  async leave(engineId: string): Promise<void> {
    this.ctx.assertOpen();
    await this.ctx.query("DELETE FROM engines WHERE engine_id = $1", [engineId]);
  }
}
