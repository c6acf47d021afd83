/**
 * The store on a real PostgreSQL (a throwaway cluster, see support/postgres.ts): the conformance
 * suite, then what only PostgreSQL has: migrations under concurrency, signals between instances
 * over LISTEN/NOTIFY (and their reconnection), the pool, and the errors of a bad URL.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import pg from "pg";

import type { StoredEvent } from "../src/store/index.ts";
import { SCHEMA_VERSION } from "../src/store/postgres/schema.ts";
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from "../src/store/postgres/store.ts";
import { startPostgres } from "./support/postgres.ts";
import { storeConformanceSuite } from "./support/store-conformance.ts";

const TIMEOUT = { timeout: 30_000 };

const server = await startPostgres();
after(() => server.stop());

// One database for the whole suite: makeStore() reopens the same data each time.
const suiteUrl = await server.createDatabase();
storeConformanceSuite("postgres", () => openPostgresStore({ url: suiteUrl, pollIntervalMs: 50 }));

async function withAdmin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<Error> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    caught = err;
    assert.equal((err as { code?: unknown }).code, code, String(err));
    return true;
  });
  return caught as Error;
}

describe("postgres store", () => {
  const opened: PostgresStore[] = [];
  const open = async (options: PostgresStoreOptions): Promise<PostgresStore> => {
    const store = await openPostgresStore(options);
    opened.push(store);
    return store;
  };
  after(async () => {
    for (const store of opened) await store.close();
  });

  /** The first event a follow delivers and how long it took after `trigger` ran. */
  async function wakeLatency(
    follower: PostgresStore,
    execution: { owner: string; id: string },
    trigger: () => Promise<unknown>,
  ): Promise<{ event: StoredEvent; ms: number }> {
    const controller = new AbortController();
    const iterator = follower.events
      .follow(execution.owner, execution.id, 0, { signal: controller.signal })
      [Symbol.asyncIterator]();
    const first = iterator.next();
    // The follow has read the empty log and is waiting before the trigger writes.
    await sleep(100);
    const started = performance.now();
    await trigger();
    const next = await first;
    const ms = performance.now() - started;
    controller.abort();
    await iterator.return?.();
    assert.equal(next.done, false);
    return { event: next.value as StoredEvent, ms };
  }

  async function running(store: PostgresStore, engineId: string | null = null): Promise<{ owner: string; id: string }> {
    const owner = `pg-${randomUUID()}`;
    const id = randomUUID();
    await store.executions.create({ id, owner, threadId: randomUUID(), runtime: "python", engineId });
    return { owner, id };
  }

  test("an empty database is migrated at open, to one schema_version row", TIMEOUT, async () => {
    const url = await server.createDatabase();
    const store = await open({ url });
    await withAdmin(url, async (client) => {
      assert.deepEqual((await client.query("SELECT version FROM schema_version")).rows, [{ version: SCHEMA_VERSION }]);
      const tables = await client.query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
      );
      assert.deepEqual(
        tables.rows.map((r) => r.tablename),
        [
          "assistants",
          "checkpoint_threads",
          "checkpoint_writes",
          "checkpoints",
          "engines",
          "execution_events",
          "executions",
          "graphs",
          "runs",
          "schema_version",
          "store_items",
          "thread_locks",
          "threads",
        ],
      );
    });
    await store.close();
    // Reopening finds it done.
    await (await open({ url })).close();
  });

  test("engines opening one empty database at once both start, and it is migrated once", TIMEOUT, async () => {
    const url = await server.createDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => open({ url })));
    assert.equal(stores.length, 4);
    await withAdmin(url, async (client) => {
      assert.deepEqual((await client.query("SELECT version FROM schema_version")).rows, [{ version: SCHEMA_VERSION }]);
    });
    const { ref } = { ref: { owner: "o", threadId: "t" } };
    await stores[0]?.threads.ensure({ ...ref, runtime: "python" });
    assert.equal((await stores[3]?.threads.get(ref))?.runtime, "python");
  });

  test("a database of a newer Graphbox is refused, and left as it was", TIMEOUT, async () => {
    const url = await server.createDatabase();
    await (await open({ url })).close();
    await withAdmin(url, (client) => client.query("UPDATE schema_version SET version = $1", [SCHEMA_VERSION + 1]));
    const err = await rejectsWithCode(openPostgresStore({ url }), "GBX_STORE_SCHEMA_TOO_NEW");
    assert.match(err.message, new RegExp(`schema version ${SCHEMA_VERSION + 1}`));
    await withAdmin(url, async (client) => {
      assert.deepEqual((await client.query("SELECT version FROM schema_version")).rows, [
        { version: SCHEMA_VERSION + 1 },
      ]);
    });
  });

  test("a follow is woken by another instance's append through NOTIFY, long before its poll", TIMEOUT, async () => {
    const url = await server.createDatabase();
    // Polls every 5 s: a wake within a fraction of that can only be the signal.
    const follower = await open({ url, pollIntervalMs: 5_000 });
    const writer = await open({ url, pollIntervalMs: 5_000 });
    const execution = await running(writer);
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const exec = i === 0 ? execution : await running(writer);
      const { event, ms } = await wakeLatency(follower, exec, () =>
        writer.events.append(exec.id, { type: "token", data: { i } }),
      );
      assert.equal(event.seq, 1);
      samples.push(ms);
    }
    const worst = Math.max(...samples);
    process.stdout.write(`# NOTIFY wake latency (ms): ${samples.map((s) => s.toFixed(1)).join(", ")}\n`);
    assert.ok(worst < 1_000, `a follow woke ${worst.toFixed(0)} ms after the append (poll: 5000 ms)`);
  });

  test("the listener reconnects after its connection is killed, and wakes its followers", TIMEOUT, async () => {
    const url = await server.createDatabase();
    const database = new URL(url).pathname.slice(1);
    const follower = await open({ url, pollIntervalMs: 5_000 });
    const writer = await open({ url, pollIntervalMs: 5_000 });
    const listenerPid = async (): Promise<number[]> =>
      withAdmin(server.adminUrl, async (client) =>
        (
          await client.query<{ pid: number }>(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'graphbox-listener' ORDER BY pid",
            [database],
          )
        ).rows.map((r) => r.pid),
      );
    const before = await listenerPid();
    assert.equal(before.length, 2, "one listener per store instance");

    // A follower waits; the follower's listener is killed; an append is sent meanwhile (its NOTIFY
    // is lost); the reconnected listener wakes the follower, well before its 5 s poll.
    const execution = await running(writer);
    const { event, ms } = await wakeLatency(follower, execution, async () => {
      const killed = await withAdmin(server.adminUrl, async (client) =>
        (
          await client.query<{ pid: number }>(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'graphbox-listener' AND pid <> ALL($2::int[])",
            [database, await writerListener()],
          )
        ).rows.map((r) => r.pid),
      );
      assert.equal(killed.length, 1);
      await withAdmin(server.adminUrl, (client) => client.query("SELECT pg_terminate_backend($1)", [killed[0]]));
      const deadline = Date.now() + 5_000;
      while (follower.signals.listening && Date.now() < deadline) await sleep(5);
      assert.equal(follower.signals.listening, false, "the store saw its listener go");
      await writer.events.append(execution.id, { type: "token", data: { lost: true } });
    });
    assert.equal(event.seq, 1);
    assert.ok(ms < 2_000, `woken ${ms.toFixed(0)} ms after the listener was killed (poll: 5000 ms)`);
    await follower.signals.whenListening();
    const after = await listenerPid();
    assert.equal(after.length, 2);
    assert.notDeepEqual(after, before, "a new listener connection");

    // Live again: the next append wakes through NOTIFY.
    const next = await running(writer);
    const again = await wakeLatency(follower, next, () => writer.events.append(next.id, { type: "token", data: {} }));
    assert.ok(again.ms < 1_000, `woken ${again.ms.toFixed(0)} ms after an append once reconnected`);

    async function writerListener(): Promise<number[]> {
      // The writer's listener is the one that is not the follower's: the older backend was opened first.
      return before.slice(1);
    }
  });

  test("the pool never opens more connections than its size", TIMEOUT, async () => {
    const url = await server.createDatabase();
    const database = new URL(url).pathname.slice(1);
    const store = await open({ url, poolSize: 3 });
    const execution = await running(store);
    const reads = Array.from({ length: 40 }, () => store.events.read(execution.owner, execution.id, 0));
    const busy = store.poolStats();
    assert.ok(busy.total <= 3, `total ${busy.total}`);
    assert.ok(busy.waiting > 0, "the other calls wait for a connection");
    await Promise.all(reads);
    const backends = await withAdmin(server.adminUrl, async (client) =>
      Number(
        (
          await client.query<{ n: string }>(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'graphbox'",
            [database],
          )
        ).rows[0]?.n,
      ),
    );
    assert.ok(backends <= 3, `${backends} pool connections to the database`);
    const idle = store.poolStats();
    assert.equal(idle.waiting, 0);
    assert.equal(idle.idle, idle.total);
  });

  test("a wrong password, a closed port or another scheme: a clear error, never the password", TIMEOUT, async () => {
    const good = new URL(await server.createDatabase());
    const wrong = new URL(good);
    wrong.password = "not-the-Secret-pw";
    const refused = await rejectsWithCode(openPostgresStore({ url: wrong.toString() }), "GBX_STORE_UNAVAILABLE");
    assert.match(refused.message, new RegExp(`127\\.0\\.0\\.1:${good.port}`));
    assert.match(refused.message, /password|login/);
    assert.ok(!refused.message.includes("not-the-Secret-pw"), refused.message);
    assert.ok(!refused.message.includes(good.password), refused.message);

    const closed = new URL(good);
    closed.port = "1";
    const unreachable = await rejectsWithCode(openPostgresStore({ url: closed.toString() }), "GBX_STORE_UNAVAILABLE");
    assert.match(unreachable.message, /127\.0\.0\.1:1\b.*connection refused/);
    assert.ok(!unreachable.message.includes(good.password), unreachable.message);

    const missing = new URL(good);
    missing.pathname = "/no_such_database";
    const absent = await rejectsWithCode(openPostgresStore({ url: missing.toString() }), "GBX_STORE_UNAVAILABLE");
    assert.match(absent.message, /no_such_database/);

    const other = await rejectsWithCode(
      openPostgresStore({ url: `mysql://u:${good.password}@127.0.0.1/x` }),
      "GBX_STORE_INVALID_ARGUMENT",
    );
    assert.ok(!other.message.includes(good.password), other.message);
  });

  test("values PostgreSQL cannot hold (a NUL character) are refused as invalid arguments", TIMEOUT, async () => {
    const store = await open({ url: suiteUrl });
    const ref = { owner: `pg-${randomUUID()}`, threadId: "t" };
    await rejectsWithCode(
      store.threads.ensure({ ...ref, runtime: "python", metadata: { note: "a\u0000b" } }),
      "GBX_STORE_INVALID_ARGUMENT",
    );
    await rejectsWithCode(store.threads.get({ ...ref, threadId: "t\u0000" }), "GBX_STORE_INVALID_ARGUMENT");
    assert.equal(await store.threads.get(ref), null, "nothing was written");
    // Event data is kept as JSON text, where a NUL is an escape: it is stored as any other.
    const execution = await running(store);
    await store.events.append(execution.id, { type: "token", data: { content: "a\u0000b" } });
    const [event] = await store.events.read(execution.owner, execution.id, 0);
    assert.deepEqual(event?.data, { content: "a\u0000b" });
  });

  test("cancels reach the engine that runs the execution, through the signal and the table", TIMEOUT, async () => {
    const url = await server.createDatabase();
    const runner = await open({ url, pollIntervalMs: 5_000 });
    const asker = await open({ url, pollIntervalMs: 5_000 });
    const engineId = `engine-${randomUUID()}`;
    const execution = await running(runner, engineId);
    const woken = new Promise<number>((resolve) => {
      const stop = runner.signals.cancels.subscribe(engineId, () => {
        stop();
        resolve(performance.now());
      });
    });
    const asked = performance.now();
    assert.equal(await asker.executions.requestCancel("someone else", execution.id, "interrupt"), false);
    assert.equal(await asker.executions.requestCancel(execution.owner, execution.id, "rollback"), true);
    const ms = (await woken) - asked;
    assert.ok(ms < 1_000, `the cancel's signal took ${ms.toFixed(0)} ms`);
    assert.deepEqual(await runner.executions.takeCancelRequests(`engine-${randomUUID()}`), []);
    assert.deepEqual(await runner.executions.takeCancelRequests(engineId), [
      { executionId: execution.id, action: "rollback" },
    ]);
    assert.deepEqual(await runner.executions.takeCancelRequests(engineId), [], "each handed out once");
    await runner.executions.finish(execution.id, { status: "cancelled" });
    assert.equal(await asker.executions.requestCancel(execution.owner, execution.id, "interrupt"), false);
  });

  test(
    "leases: heartbeat, live, reap, leave; a dead engine's executions fail, a live one's stay",
    TIMEOUT,
    async () => {
      const url = await server.createDatabase();
      const store = await open({ url });
      const [alive, dead] = [`alive-${randomUUID()}`, `dead-${randomUUID()}`];
      assert.equal(await store.cluster.heartbeat({ engineId: alive, address: "a:1" }, 60_000), false, "registered");
      assert.equal(await store.cluster.heartbeat({ engineId: alive, address: "a:1" }, 60_000), true, "renewed");
      assert.equal(await store.cluster.heartbeat({ engineId: dead, address: "d:1" }, 1), false);
      await sleep(5);
      assert.deepEqual(
        (await store.cluster.live()).map((l) => l.engineId),
        [alive],
      );
      const reaped = await Promise.all([store.cluster.reapExpired(), store.cluster.reapExpired()]);
      assert.deepEqual(reaped.flat(), [dead], "reaped by one caller");
      const ofAlive = await running(store, alive);
      const ofDead = await running(store, dead);
      const ofNone = await running(store, null);
      const failed = await store.executions.markRunningAsFailed("its engine died", { ofDeadEngines: true });
      assert.deepEqual(failed.sort(), [ofDead.id, ofNone.id].sort());
      assert.equal((await store.executions.get(ofAlive.owner, ofAlive.id))?.status, "running");
      assert.equal(await store.cluster.heartbeat({ engineId: dead, address: "d:1" }, 60_000), false, "declared dead");
      await store.cluster.leave(alive);
      assert.deepEqual(
        (await store.cluster.live()).map((l) => l.engineId),
        [dead],
      );
    },
  );
});
