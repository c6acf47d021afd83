/**
 * The shared store: PostgreSQL, for several engines on one database. A pool of connections sized
 * by the operator does the reads and writes; one more connection listens for the signals that
 * carry events, cancels and runs between engines (`signals.ts`). Opening migrates the database.
 */
import pg from "pg";

import { StoreError } from "../errors.ts";
import type { Store } from "../types.ts";
import { positiveInteger } from "../validate.ts";
import { PostgresAssistantStore } from "./assistants.ts";
import { PostgresCheckpointStore } from "./checkpoints.ts";
import { PostgresClusterStore } from "./cluster.ts";
import type { PostgresContext } from "./context.ts";
import { PostgresEventLog } from "./events.ts";
import { PostgresExecutionStore } from "./executions.ts";
import { PostgresGraphStore } from "./graphs.ts";
import { PostgresItemStore } from "./items.ts";
import { migrate } from "./migrate.ts";
import { PostgresRunStore } from "./runs.ts";
import { PostgresSignals } from "./signals.ts";
import { PostgresThreadStore } from "./threads.ts";
import { databaseAddress, redactedUrl } from "./url.ts";

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (GRAPHBOX_DATABASE_URL). */
  url: string;
  /** Connections of the pool (GRAPHBOX_DATABASE_POOL_SIZE); the listener takes one more. Default 10. */
  poolSize?: number;
  /** How often a `follow` re-reads the log without a notification (one lost with its connection). Default 1000. */
  pollIntervalMs?: number;
  /** How long opening a connection may take before it fails. Default 10000. */
  connectTimeoutMs?: number;
  /** The listener connection dropped or could not reconnect; it is tried again in `retryInMs` (the store never logs). */
  onListenerError?(err: unknown, retryInMs: number): void;
}

/** PostgreSQL's BIGINT (int8): times in ms and counters, far below 2^53, so plain numbers. */
const INT8_OID = 20;
const parseInt8 = (value: string): number => Number(value);

/** Type parsers of this store's connections only: other users of `pg` in the process keep theirs. */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? parseInt8
      : pg.types.getTypeParser(oid, format ?? "text")) as pg.CustomTypesConfig["getTypeParser"],
};

/** Values a caller gave that PostgreSQL cannot hold (a NUL character, an over-long value): the caller's fault. */
const INVALID_VALUE_CODES = new Set(["22P05", "22021", "22001", "54000", "22003"]);

function asStoreError(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "22021")
    return new StoreError(
      "GBX_STORE_INVALID_ARGUMENT",
      "a value holds the character U+0000 (NUL), which PostgreSQL cannot store in text: an id, a name or a text field",
    );
  if (typeof code === "string" && INVALID_VALUE_CODES.has(code))
    return new StoreError(
      "GBX_STORE_INVALID_ARGUMENT",
      `PostgreSQL cannot store the value: ${err instanceof Error ? err.message : String(err)}`,
    );
  return err;
}

/** Why a connection could not be opened, without the password. */
function connectionProblem(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return connectionProblem(err.errors[0]);
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === "28P01" || code === "28000") return `login refused (${message}): check the user and password`;
  if (code === "3D000") return `${message}: create it (createdb) or fix the URL`;
  if (code === "ECONNREFUSED") return "connection refused: is PostgreSQL running and listening on that address?";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "the host name does not resolve";
  return message;
}

export class PostgresStore implements Store {
  readonly backend = "postgres";
  /** The URL without its password. */
  readonly address: string;
  readonly cluster: PostgresClusterStore;
  readonly signals: PostgresSignals;
  readonly threads: PostgresThreadStore;
  readonly executions: PostgresExecutionStore;
  readonly events: PostgresEventLog;
  readonly checkpoints: PostgresCheckpointStore;
  readonly graphs: PostgresGraphStore;
  readonly assistants: PostgresAssistantStore;
  readonly runs: PostgresRunStore;
  readonly items: PostgresItemStore;

  private readonly closing = new AbortController();
  private closed: Promise<void> | null = null;

  /** Use `openPostgresStore`: the pool and signals must be connected and the schema migrated first. */
  private constructor(
    private readonly pool: pg.Pool,
    signals: PostgresSignals,
    options: { address: string; url: string; pollIntervalMs: number },
  ) {
    this.address = options.address;
    this.signals = signals;
    const closed = this.closing.signal;
    const assertOpen = (): void => {
      if (closed.aborted) throw new StoreError("GBX_STORE_CLOSED", `the store on ${options.address} is closed`);
    };
    const context: PostgresContext = {
      pool,
      signals,
      closed,
      pollIntervalMs: options.pollIntervalMs,
      assertOpen,
      now: () => Date.now(),
      async query(sql, params) {
        assertOpen();
        try {
          return (await pool.query(sql, params as unknown[] | undefined)).rows;
        } catch (err: unknown) {
          throw asStoreError(err);
        }
      },
      async transaction(work) {
        assertOpen();
        const client = await pool.connect();
        let broken: unknown = undefined;
        try {
          await client.query("BEGIN");
          const result = await work(client);
          await client.query("COMMIT");
          return result;
        } catch (err: unknown) {
          try {
            await client.query("ROLLBACK");
          } catch (rollbackFailed: unknown) {
            // The connection is unusable: the pool must not hand it out again.
            broken = rollbackFailed;
          }
          throw asStoreError(err);
        } finally {
          client.release(broken instanceof Error ? broken : undefined);
        }
      },
    };
    const orderKey = options.url;
    this.cluster = new PostgresClusterStore(context);
    this.threads = new PostgresThreadStore(context);
    this.events = new PostgresEventLog(context, orderKey);
    this.executions = new PostgresExecutionStore(context, this.events);
    this.checkpoints = new PostgresCheckpointStore(context, orderKey);
    this.graphs = new PostgresGraphStore(context);
    this.assistants = new PostgresAssistantStore(context);
    this.runs = new PostgresRunStore(context);
    this.items = new PostgresItemStore(context);
  }

  /** Connects, migrates and starts listening; a StoreError naming the host (never the password) when it cannot. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const { host, port, database, user } = databaseAddress(options.url);
    const address = redactedUrl(options.url);
    const poolSize = positiveInteger("poolSize", options.poolSize ?? 10);
    const pollIntervalMs = positiveInteger("pollIntervalMs", options.pollIntervalMs ?? 1000);
    const connectTimeoutMs = positiveInteger("connectTimeoutMs", options.connectTimeoutMs ?? 10_000);
    const connection: pg.ClientConfig = {
      connectionString: options.url,
      types: TYPES,
      connectionTimeoutMillis: connectTimeoutMs,
      // A peer that vanished (a lost machine, a cut link) is noticed instead of waited on forever.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      application_name: "graphbox",
    };
    const pool = new pg.Pool({ ...connection, max: poolSize });
    // An idle connection that drops (a server restart) is taken out of the pool; the next query opens another.
    pool.on("error", () => undefined);
    const signals = new PostgresSignals({
      connection: { ...connection, application_name: "graphbox-listener" },
      send: async (channel, payload) => {
        await pool.query("SELECT pg_notify($1, $2)", [channel, payload]);
      },
      ...(options.onListenerError ? { onListenerError: options.onListenerError } : {}),
    });
    try {
      await migrate(pool, address);
      await signals.start();
    } catch (err: unknown) {
      await signals.close();
      await pool.end().catch(() => undefined);
      if (err instanceof StoreError) throw err;
      const password = new URL(options.url).password;
      let problem = connectionProblem(err).split(options.url).join(address);
      if (password !== "") problem = problem.split(decodeURIComponent(password)).join("***");
      throw new StoreError(
        "GBX_STORE_UNAVAILABLE",
        `cannot use PostgreSQL at ${host}:${port} (database ${JSON.stringify(database)}, user ${JSON.stringify(user)}): ${problem}`,
      );
    }
    return new PostgresStore(pool, signals, { address, url: options.url, pollIntervalMs });
  }

  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async close(): Promise<void> {
    this.closed ??= (async () => {
      this.closing.abort();
      await this.signals.close();
      await this.pool.end();
    })();
    return this.closed;
  }
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  return PostgresStore.open(options);
}
