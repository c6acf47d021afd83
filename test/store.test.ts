/** The store: the conformance suite against SQLite in a fresh directory, then what only SQLite has. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";

import Database from "better-sqlite3";

import { PROJECT_ROOT } from "../src/config/index.ts";
import { DEFAULT_DATA_DIR, openSqliteStore, SqliteStore } from "../src/store/index.ts";
import { MIGRATIONS, SCHEMA_VERSION } from "../src/store/sqlite/schema.ts";
import { storeConformanceSuite, uuid6 } from "./support/store-conformance.ts";

const root = mkdtempSync(join(tmpdir(), "graphbox-store-test-"));
after(() => rmSync(root, { recursive: true, force: true }));

// One data directory for the whole suite: makeStore() reopens the same data each time.
const suiteDir = join(root, "conformance", "not-yet-created");
storeConformanceSuite("sqlite", () => openSqliteStore({ dataDir: suiteDir, pollIntervalMs: 50 }));

describe("sqlite store", () => {
  test("creates its data directory and a private database file in WAL mode at the current schema", async () => {
    const dataDir = join(root, "fresh", "a", "b");
    const store = new SqliteStore({ dataDir });
    await store.close();
    assert.equal(store.file, join(dataDir, "graphbox.sqlite"));
    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    assert.equal(statSync(store.file).mode & 0o777, 0o600);
    const db = new Database(store.file, { readonly: true });
    try {
      assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
      assert.deepEqual(db.prepare("SELECT version FROM schema_version").all(), [{ version: SCHEMA_VERSION }]);
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      assert.deepEqual(tables, [
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
      ]);
    } finally {
      db.close();
    }
  });

  test("the default data directory is <project>/.data", () => {
    assert.equal(DEFAULT_DATA_DIR, join(PROJECT_ROOT, ".data"));
  });

  test("a version-1 database migrates: its thread's head is what was written last, not a planted greatest id", async () => {
    const dataDir = join(root, "from-v1");
    const file = join(dataDir, "graphbox.sqlite");
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(file);
    db.exec(MIGRATIONS[0] as string);
    db.exec("CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (1)");
    const insert = db.prepare(
      "INSERT INTO checkpoints (owner, thread_id, checkpoint_ns, checkpoint_id, type, checkpoint, metadata, created_at) VALUES ('o', 't', '', ?, ?, ?, '{}', 0)",
    );
    const [c1, c2] = [uuid6(), uuid6()];
    insert.run(c1, "msgpack", Buffer.alloc(10));
    // What main before the fix let a program store: a pickle under the greatest id.
    insert.run("zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", "pickle", Buffer.alloc(20));
    insert.run(c2, "msgpack", Buffer.alloc(30));
    db.prepare(
      "INSERT INTO checkpoint_writes (owner, thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel, type, value) VALUES ('o', 't', '', ?, 'task', 0, 'c', 'msgpack', ?)",
    ).run(c2, Buffer.alloc(5));
    db.close();

    const store = new SqliteStore({ dataDir });
    try {
      const ref = { owner: "o", threadId: "t" };
      assert.equal((await store.checkpoints.getTuple(ref))?.checkpointId, c2);
      assert.equal((await store.checkpoints.getHeadState(ref))?.checkpointId, c2);
      // Bytes so far: 10 + 20 + 30 blobs, 3 × "{}" metadata, a 5-byte write.
      await assert.rejects(
        store.checkpoints.put(
          ref,
          {
            checkpointId: "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzzz",
            checkpoint: { type: "msgpack", bytes: new Uint8Array(1) },
            metadata: {},
          },
          { maxThreadBytes: 73 },
        ),
        /quota of 73 bytes \(71 stored/,
      );
    } finally {
      await store.close();
    }
  });

  test("a version-3 database migrates: its threads stay as they were, with metadata {}", async () => {
    const dataDir = join(root, "from-v3");
    mkdirSync(dataDir, { recursive: true });
    const db = new Database(join(dataDir, "graphbox.sqlite"));
    for (const migration of MIGRATIONS.slice(0, 3)) db.exec(migration);
    db.exec("CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (3)");
    const head = { checkpointId: "c1", next: ["human"], interrupts: [{ value: "?" }] };
    db.prepare(
      "INSERT INTO threads (owner, thread_id, runtime, status, created_at, updated_at, head_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
    ).run("o", "t1", "python", "interrupted", 1000, 2000, JSON.stringify(head));
    db.prepare(
      "INSERT INTO threads (owner, thread_id, runtime, status, created_at, updated_at) VALUES ('o', 't2', 'js', 'idle', 1500, 1500)",
    ).run();
    db.prepare("INSERT INTO thread_locks (owner, thread_id, execution_id, expires_at) VALUES ('o', 't1', 'e1', ?)").run(
      Date.now() + 600_000,
    );
    db.close();

    const store = new SqliteStore({ dataDir });
    try {
      assert.deepEqual(await store.threads.get({ owner: "o", threadId: "t1" }), {
        owner: "o",
        threadId: "t1",
        runtime: "python",
        status: "interrupted",
        metadata: {},
        createdAt: 1000,
        updatedAt: 2000,
      });
      assert.deepEqual(await store.threads.getHead({ owner: "o", threadId: "t1" }), head);
      assert.deepEqual(
        (await store.threads.search("o")).map((t) => [t.threadId, t.runtime, t.metadata]),
        [
          ["t2", "js", {}],
          ["t1", "python", {}],
        ],
      );
      assert.equal((await store.threads.tryLock({ owner: "o", threadId: "t1" }, "e2", 1000)).acquired, false);
      // The rebuilt table takes a thread without a runtime, and searches by metadata.
      await store.threads.ensure({ owner: "o", threadId: "t3", runtime: null, metadata: { graph_id: "g" } });
      assert.deepEqual(
        (await store.threads.search("o", { metadata: { graph_id: "g" } })).map((t) => t.threadId),
        ["t3"],
      );
    } finally {
      await store.close();
    }
    const check = new Database(join(dataDir, "graphbox.sqlite"), { readonly: true });
    try {
      assert.equal(check.pragma("integrity_check", { simple: true }), "ok");
      const indexes = check
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'threads' AND sql IS NOT NULL ORDER BY name",
        )
        .pluck()
        .all();
      assert.deepEqual(indexes, ["threads_by_owner_created", "threads_by_owner_status", "threads_by_owner_updated"]);
    } finally {
      check.close();
    }
  });

  test("searches read through their indexes, not the whole table", () => {
    const db = new Database(":memory:");
    try {
      for (const migration of MIGRATIONS) db.exec(migration);
      const plan = (sql: string): string =>
        db
          .prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all()
          .map((row) => (row as { detail: string }).detail)
          .join("; ");
      assert.match(
        plan("SELECT * FROM threads WHERE owner = 'o' ORDER BY created_at DESC LIMIT 10"),
        /USING INDEX threads_by_owner_created/,
      );
      assert.match(
        plan("SELECT * FROM assistants WHERE owner = 'o' AND graph_id = 'g' ORDER BY created_at DESC"),
        /USING INDEX assistants_by_owner_graph/,
      );
      assert.match(
        plan("SELECT * FROM runs WHERE owner = 'o' AND thread_id = 't' AND status = 'pending' ORDER BY seq LIMIT 1"),
        /USING (COVERING )?INDEX runs_by_thread_status/,
      );
      assert.match(
        plan("SELECT * FROM runs WHERE owner = 'o' AND thread_id = 't' ORDER BY seq DESC LIMIT 10"),
        /USING INDEX runs_by_thread \(/,
      );
      assert.match(
        plan("UPDATE runs SET status = 'error' WHERE status IN ('pending', 'running')"),
        /USING INDEX runs_unfinished/,
      );
    } finally {
      db.close();
    }
  });

  test("reopening does not migrate again", async () => {
    const dataDir = join(root, "reopen");
    for (let i = 0; i < 3; i++) await (await openSqliteStore({ dataDir })).close();
    const db = new Database(join(dataDir, "graphbox.sqlite"), { readonly: true });
    assert.deepEqual(db.prepare("SELECT version FROM schema_version").all(), [{ version: SCHEMA_VERSION }]);
    db.close();
  });

  test("a database from a newer Graphbox is refused, and left as it was", async () => {
    const dataDir = join(root, "newer");
    await (await openSqliteStore({ dataDir })).close();
    const db = new Database(join(dataDir, "graphbox.sqlite"));
    db.prepare("UPDATE schema_version SET version = ?").run(SCHEMA_VERSION + 1);
    db.close();
    await assert.rejects(openSqliteStore({ dataDir }), (err: unknown) => {
      assert.equal((err as { code?: unknown }).code, "GBX_STORE_SCHEMA_TOO_NEW");
      assert.match((err as Error).message, /GRAPHBOX_DATA_DIR/);
      return true;
    });
  });

  test("options that are not positive whole numbers are refused", () => {
    assert.throws(() => new SqliteStore({ dataDir: join(root, "bad"), pollIntervalMs: 0 }), {
      code: "GBX_STORE_INVALID_ARGUMENT",
    });
  });

  test("two processes writing one database at once: nothing lost, nothing corrupt", { timeout: 60_000 }, async () => {
    const dataDir = join(root, "processes");
    const setup = await openSqliteStore({ dataDir });
    const owner = "owner";
    const executionId = randomUUID();
    await setup.executions.create({ id: executionId, owner, threadId: "shared", runtime: "python" });
    await setup.close();

    const perProcess = 300;
    const moduleUrl = pathToFileURL(join(PROJECT_ROOT, "src/store/index.ts")).href;
    const supportUrl = pathToFileURL(join(PROJECT_ROOT, "test/support/store-conformance.ts")).href;
    const script = `
      const { openSqliteStore } = await import(${JSON.stringify(moduleUrl)});
      const { uuid6 } = await import(${JSON.stringify(supportUrl)});
      const [dataDir, executionId, worker, count] = process.argv.slice(-4);
      const store = await openSqliteStore({ dataDir });
      const ref = { owner: "owner", threadId: "shared" };
      let locked = 0;
      for (let i = 0; i < Number(count); i++) {
        await store.events.append(executionId, { type: "update", data: { worker, i } });
        // A namespace per process: ids only grow within one, and two processes' clocks interleave.
        await store.checkpoints.put(ref, { checkpointNs: worker, checkpointId: uuid6(), checkpoint: { type: "json", bytes: Buffer.from(worker + ":" + i) }, metadata: { worker, i } });
        await store.checkpoints.putWrites(ref, { checkpointId: "c", taskId: worker + "-" + i }, [{ idx: -1, channel: "__error__", value: { type: "json", bytes: Buffer.from("e") } }]);
        const lock = await store.threads.tryLock(ref, worker + "-" + i, 60000);
        if (lock.acquired) { locked++; await store.threads.unlock(ref, worker + "-" + i); }
      }
      await store.close();
      process.stdout.write(JSON.stringify({ locked }));
    `;
    const run = (worker: string): Promise<{ code: number | null; stdout: string; stderr: string }> =>
      new Promise((resolve, reject) => {
        const child = spawn(
          process.execPath,
          [
            "--import",
            "tsx",
            "--input-type=module",
            "-e",
            script,
            "--",
            dataDir,
            executionId,
            worker,
            String(perProcess),
          ],
          {
            cwd: PROJECT_ROOT,
            stdio: ["ignore", "pipe", "pipe"],
          },
        );
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code, stdout, stderr }));
      });
    const results = await Promise.all([run("w1"), run("w2")]);
    for (const r of results) assert.equal(r.code, 0, r.stderr);

    const store = await openSqliteStore({ dataDir });
    try {
      const events = await store.events.read(owner, executionId, 0, { limit: 1000 });
      assert.deepEqual(
        events.map((e) => e.seq),
        Array.from({ length: 2 * perProcess }, (_, i) => i + 1),
      );
      for (const worker of ["w1", "w2"]) {
        const mine = events
          .filter((e) => (e.data as { worker: string }).worker === worker)
          .map((e) => (e.data as { i: number }).i);
        assert.deepEqual(
          mine,
          Array.from({ length: perProcess }, (_, i) => i),
          `${worker}'s events in its order`,
        );
      }
      const checkpoints = await store.checkpoints.list({ owner, threadId: "shared" });
      assert.equal(checkpoints.length, 2 * perProcess);
      const ids = checkpoints.map((c) => c.checkpointId);
      assert.deepEqual(ids, [...ids].sort().reverse());
      assert.equal(new Set(ids).size, ids.length);
      const tuple = await store.checkpoints.getTuple({ owner, threadId: "shared" }, { checkpointId: "c" });
      assert.equal(tuple, null, "writes without their checkpoint are not a tuple");
      assert.ok(uuid6() > (ids[0] as string), "ids keep sorting by time");
    } finally {
      await store.close();
    }
    const db = new Database(join(dataDir, "graphbox.sqlite"), { readonly: true });
    try {
      assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
      assert.equal(db.prepare("SELECT count(*) FROM checkpoint_writes").pluck().get(), 2 * perProcess);
      assert.equal(db.prepare("SELECT count(*) FROM thread_locks").pluck().get(), 0, "every lock taken was released");
    } finally {
      db.close();
    }
  });
});
