/**
 * Brings a database to SCHEMA_VERSION at open: `npm start` needs no separate migrate step. The
 * whole migration is one transaction holding a transaction-level advisory lock, so engines that
 * start at once from one checkout migrate one after the other (the second finds the work done),
 * and a migration that fails leaves the database as it was.
 */
import type { Pool } from "pg";

import { StoreError } from "../errors.ts";
import { MIGRATION_LOCK_KEY, MIGRATIONS, SCHEMA_VERSION } from "./schema.ts";

/** Migrates; returns the version the database was at before (0: empty). `where` names it in errors (no password). */
export async function migrate(pool: Pool, where: string): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    try {
      await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK_KEY]);
      await client.query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      const rows = (await client.query<{ version: number }>("SELECT version FROM schema_version")).rows;
      const current = rows[0]?.version ?? 0;
      if (current > SCHEMA_VERSION) {
        throw new StoreError(
          "GBX_STORE_SCHEMA_TOO_NEW",
          `${where} has schema version ${current}, newer than this Graphbox's ${SCHEMA_VERSION}: run a newer Graphbox, or point GRAPHBOX_DATABASE_URL elsewhere`,
        );
      }
      // A simple query (no parameters): one migration's several statements in one round trip.
      for (let version = current + 1; version <= SCHEMA_VERSION; version++)
        await client.query(MIGRATIONS[version - 1] as string);
      if (rows.length === 0) await client.query("INSERT INTO schema_version (version) VALUES ($1)", [SCHEMA_VERSION]);
      else if (current !== SCHEMA_VERSION)
        await client.query("UPDATE schema_version SET version = $1", [SCHEMA_VERSION]);
      await client.query("COMMIT");
      return current;
    } catch (err: unknown) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
  } finally {
    client.release();
  }
}
