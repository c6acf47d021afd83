/**
 * The one spec every Store implementation passes (SQLite now, PostgreSQL next), in the manner of
 * langgraph's checkpointer conformance tests: call `storeConformanceSuite(name, makeStore)` from
 * a test file.
 *
 * `makeStore()` opens a new Store on the *same* data each time it is called (one data directory,
 * one database): the suite uses that to reopen data and to write from two instances at once.
 * Every test works under owners and ids of its own, so the data may be shared with other suites.
 */
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import type { NewEvent, Store, StoredEvent, ThreadRef, TypedBlob } from "../../src/store/index.ts";
import { agentRecordCases } from "./store-conformance-agent.ts";
import { itemStoreCases } from "./item-store-conformance.ts";
import { clusterCases } from "./store-conformance-cluster.ts";
import { runQueueCases } from "./run-queue-conformance.ts";

const TIMEOUT = { timeout: 20_000 };

let lastTicks = 0n;
/** 1582-10-15 (UUID time's epoch) to 1970-01-01, in ms. */
const GREGORIAN_MS = 12_219_292_800_000n;
/** A LangGraph-style UUIDv6: its text sorts by creation time (LangGraph's checkpoint ids). */
export function uuid6(atMs: number = Date.now()): string {
  // 100 ns ticks since 1582, kept strictly increasing within this process.
  let ticks = (BigInt(atMs) + GREGORIAN_MS) * 10_000n;
  if (ticks <= lastTicks) ticks = lastTicks + 1n;
  lastTicks = ticks;
  const hex = ticks.toString(16).padStart(15, "0");
  const tail = randomBytes(8).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-6${hex.slice(12, 15)}-${(8 + (parseInt(tail[0] as string, 16) & 3)).toString(16)}${tail.slice(1, 4)}-${tail.slice(4)}`;
}

const blob = (text: string, type = "json"): TypedBlob => ({ type, bytes: new TextEncoder().encode(text) });
const text = (value: TypedBlob): string => new TextDecoder().decode(value.bytes);

function ids(prefix: string): { owner: string; other: string; ref: ThreadRef; otherRef: ThreadRef } {
  const owner = `${prefix}-owner-${randomUUID()}`;
  const other = `${prefix}-other-${randomUUID()}`;
  const threadId = `thread-${randomUUID()}`;
  return { owner, other, ref: { owner, threadId }, otherRef: { owner: other, threadId } };
}

/** Collects a follow until it ends, failing after `ms`. */
async function collect(iterable: AsyncIterable<StoredEvent>, ms = 10_000): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  const deadline = sleep(ms, "deadline", { ref: false });
  const drain = (async () => {
    for await (const event of iterable) events.push(event);
    return "done";
  })();
  const winner = await Promise.race([drain, deadline]);
  assert.equal(winner, "done", `follow did not end within ${ms} ms (got seqs ${events.map((e) => e.seq).join(",")})`);
  return events;
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, code);
    return true;
  });
}

export function storeConformanceSuite(name: string, makeStore: () => Promise<Store>): void {
  describe(`store conformance: ${name}`, () => {
    let store: Store;
    const opened: Store[] = [];
    const open = async (): Promise<Store> => {
      const s = await makeStore();
      opened.push(s);
      return s;
    };

    before(async () => {
      store = await open();
    });
    after(async () => {
      for (const s of opened) await s.close();
    });

    async function running(ref: ThreadRef, engineId?: string): Promise<string> {
      const id = randomUUID();
      await store.executions.create({
        id,
        owner: ref.owner,
        threadId: ref.threadId,
        runtime: "python",
        engineId: engineId ?? null,
      });
      return id;
    }

    // -------------------------------------------------------------------------------- threads

    describe("threads", () => {
      test("ensure creates once and keeps the creating runtime", TIMEOUT, async () => {
        const { ref } = ids("ensure");
        const first = await store.threads.ensure({ ...ref, runtime: "python" });
        assert.equal(first.created, true);
        assert.equal(first.thread.runtime, "python");
        assert.equal(first.thread.status, "idle");
        assert.ok(first.thread.createdAt > 0 && first.thread.updatedAt >= first.thread.createdAt);
        const second = await store.threads.ensure({ ...ref, runtime: "js" });
        assert.equal(second.created, false);
        assert.equal(second.thread.runtime, "python", "a thread belongs to the runtime that created it");
        assert.deepEqual(await store.threads.get(ref), first.thread);
      });

      test(
        "a thread is invisible to another owner, who may use the same thread_id for a thread of its own",
        TIMEOUT,
        async () => {
          const { ref, otherRef, other } = ids("owners");
          await store.threads.ensure({ ...ref, runtime: "python" });
          assert.equal(await store.threads.get(otherRef), null);
          assert.deepEqual(await store.threads.list(other), []);
          assert.equal(await store.threads.setStatus(otherRef, "error"), false);
          assert.equal(await store.threads.delete(otherRef), false);
          assert.ok(await store.threads.get(ref), "another owner's delete left it alone");

          const theirs = await store.threads.ensure({ ...otherRef, runtime: "js" });
          assert.equal(theirs.created, true);
          assert.equal(theirs.thread.runtime, "js");
          assert.equal((await store.threads.get(ref))?.runtime, "python");

          await store.checkpoints.put(ref, { checkpointId: uuid6(), checkpoint: blob("mine"), metadata: {} });
          assert.equal(await store.checkpoints.getTuple(otherRef), null, "checkpoints are the owner's too");
          assert.deepEqual(await store.checkpoints.list(otherRef), []);
        },
      );

      test("list shows the owner's threads, most recently updated first; setStatus updates", TIMEOUT, async () => {
        const { owner } = ids("list");
        const a = { owner, threadId: `a-${randomUUID()}` };
        const b = { owner, threadId: `b-${randomUUID()}` };
        await store.threads.ensure({ ...a, runtime: "python" });
        await sleep(5);
        await store.threads.ensure({ ...b, runtime: "js", status: "busy" });
        assert.deepEqual(
          (await store.threads.list(owner)).map((t) => t.threadId),
          [b.threadId, a.threadId],
        );
        await sleep(5);
        assert.equal(await store.threads.setStatus(a, "interrupted"), true);
        const listed = await store.threads.list(owner);
        assert.deepEqual(
          listed.map((t) => [t.threadId, t.status]),
          [
            [a.threadId, "interrupted"],
            [b.threadId, "busy"],
          ],
        );
        assert.deepEqual(
          (await store.threads.list(owner, { limit: 1 })).map((t) => t.threadId),
          [a.threadId],
        );
      });

      test(
        "setStatus with a head keeps what the result said of it; without, the kept head stays",
        TIMEOUT,
        async () => {
          const { ref, otherRef } = ids("head");
          await store.threads.ensure({ ...ref, runtime: "python" });
          assert.equal(await store.threads.getHead(ref), null);
          const head = {
            checkpointId: uuid6(),
            next: ["human"],
            interrupts: [{ id: "i1", value: { question: "ok?" } }],
          };
          assert.equal(await store.threads.setStatus(ref, "interrupted", head), true);
          assert.deepEqual(await store.threads.getHead(ref), head);
          assert.equal(await store.threads.setStatus(ref, "error"), true);
          assert.deepEqual(await store.threads.getHead(ref), head, "a run without a result leaves the head it said");
          assert.equal((await store.threads.get(ref))?.status, "error");
          assert.equal(await store.threads.getHead(otherRef), null, "another owner's thread of the same id");
        },
      );

      test("delete removes the thread with its checkpoints, writes and lock", TIMEOUT, async () => {
        const { ref } = ids("delete");
        await store.threads.ensure({ ...ref, runtime: "python" });
        const checkpointId = uuid6();
        await store.checkpoints.put(ref, { checkpointId, checkpoint: blob("c"), metadata: {} });
        await store.checkpoints.putWrites(ref, { checkpointId, taskId: "t" }, [
          { idx: 0, channel: "x", value: blob("1") },
        ]);
        assert.equal((await store.threads.tryLock(ref, "e1", 60_000)).acquired, true);
        assert.equal(await store.threads.delete(ref), true);
        assert.equal(await store.threads.get(ref), null);
        assert.equal(await store.checkpoints.getTuple(ref), null);
        assert.equal((await store.threads.tryLock(ref, "e2", 60_000)).acquired, true, "the lock went with the thread");
        assert.equal(await store.threads.delete(ref), false);
      });
    });

    // -------------------------------------------------------------------------------- locks

    describe("thread locks", () => {
      test("one live lock per thread: others are refused and told who holds it", TIMEOUT, async () => {
        const { ref } = ids("lock");
        const first = await store.threads.tryLock(ref, "exec-1", 60_000);
        assert.equal(first.acquired, true);
        const second = await store.threads.tryLock(ref, "exec-2", 60_000);
        assert.deepEqual(second, { acquired: false, heldBy: "exec-1", expiresAt: first.expiresAt });
        assert.equal(await store.threads.unlock(ref, "exec-2"), false, "only the holder unlocks");
        assert.equal((await store.threads.tryLock(ref, "exec-2", 60_000)).acquired, false);
        assert.equal(await store.threads.unlock(ref, "exec-1"), true);
        assert.equal(await store.threads.unlock(ref, "exec-1"), false);
        assert.equal((await store.threads.tryLock(ref, "exec-2", 60_000)).acquired, true);
      });

      test("the holder extends its lock by taking it again", TIMEOUT, async () => {
        const { ref } = ids("renew");
        const first = await store.threads.tryLock(ref, "exec-1", 1_000);
        assert.equal(first.acquired, true);
        await sleep(5);
        const again = await store.threads.tryLock(ref, "exec-1", 60_000);
        assert.equal(again.acquired, true);
        assert.ok(again.acquired && first.acquired && again.expiresAt > first.expiresAt);
      });

      test(
        "a lock lapses after its TTL (a dead engine's), and the lapsed holder cannot free its successor's",
        TIMEOUT,
        async () => {
          const { ref } = ids("ttl");
          // Long enough that the refusal below is checked while the lock lives, even on a loaded host.
          const ttlMs = 1_500;
          const lockedAt = Date.now();
          const dead = await store.threads.tryLock(ref, "dead", ttlMs);
          assert.equal(dead.acquired, true);
          assert.deepEqual(await store.threads.tryLock(ref, "next", 60_000), {
            acquired: false,
            heldBy: "dead",
            expiresAt: dead.expiresAt,
          });
          // Polled until the lock lapses: it must not lapse before its TTL, and must soon after.
          const deadline = lockedAt + ttlMs + 10_000;
          let takenAt = 0;
          while (takenAt === 0) {
            const attempt = await store.threads.tryLock(ref, "next", 60_000);
            if (attempt.acquired) takenAt = Date.now();
            else {
              assert.equal(attempt.heldBy, "dead");
              assert.ok(
                Date.now() < deadline,
                `the lock of ${ttlMs} ms had not lapsed after ${Date.now() - lockedAt} ms`,
              );
              await sleep(25);
            }
          }
          assert.ok(takenAt - lockedAt >= ttlMs, `the lock of ${ttlMs} ms lapsed after ${takenAt - lockedAt} ms`);
          assert.equal(await store.threads.unlock(ref, "dead"), false);
          assert.equal((await store.threads.tryLock(ref, "third", 60_000)).acquired, false);
        },
      );

      test("locks are per owner and thread", TIMEOUT, async () => {
        const { ref, otherRef } = ids("lock-scope");
        assert.equal((await store.threads.tryLock(ref, "a", 60_000)).acquired, true);
        assert.equal((await store.threads.tryLock(otherRef, "b", 60_000)).acquired, true);
        assert.equal(
          (await store.threads.tryLock({ ...ref, threadId: `${ref.threadId}-2` }, "c", 60_000)).acquired,
          true,
        );
      });

      test("exactly one of many racing requests, on two Store instances, gets the lock", TIMEOUT, async () => {
        const second = await open();
        const { ref } = ids("race");
        const attempts = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            (i % 2 === 0 ? store : second).threads.tryLock(ref, `exec-${i}`, 60_000),
          ),
        );
        assert.equal(attempts.filter((a) => a.acquired).length, 1);
        const winner = attempts.findIndex((a) => a.acquired);
        for (const a of attempts) if (!a.acquired) assert.equal(a.heldBy, `exec-${winner}`);
      });

      test("a TTL that is not a positive whole number is refused", TIMEOUT, async () => {
        const { ref } = ids("ttl-bad");
        await rejectsWithCode(store.threads.tryLock(ref, "e", 0), "GBX_STORE_INVALID_ARGUMENT");
        await rejectsWithCode(store.threads.tryLock(ref, "e", 1.5), "GBX_STORE_INVALID_ARGUMENT");
      });
    });

    // -------------------------------------------------------------------------------- executions

    describe("executions", () => {
      test("create, progress, finish: the first ending wins", TIMEOUT, async () => {
        const { ref } = ids("exec");
        const id = randomUUID();
        const created = await store.executions.create({
          id,
          owner: ref.owner,
          threadId: ref.threadId,
          runtime: "js",
          engineId: "engine-1",
        });
        assert.equal(created.status, "running");
        assert.equal(created.runtime, "js");
        assert.equal(created.engineId, "engine-1");
        assert.equal(created.endedAt, null);
        assert.equal(created.durationMs, null);
        assert.equal(created.tokensUsed, 0);
        assert.deepEqual(created.nodesExecuted, []);
        assert.equal(created.result, null);
        assert.equal(created.lastEventSeq, 0);

        assert.equal(await store.executions.updateProgress(id, { tokensUsed: 12, nodesExecuted: ["agent"] }), true);
        assert.deepEqual((await store.executions.get(ref.owner, id))?.nodesExecuted, ["agent"]);

        const result = {
          status: "success",
          result: { messages: [{ role: "assistant", content: "Hi ✓" }], state: { n: 1 } },
        };
        const done = await store.executions.finish(
          id,
          { status: "success", tokensUsed: 40, nodesExecuted: ["agent", "tools", "agent"], result },
          { type: "complete", data: result },
        );
        assert.equal(done.finished, true);
        assert.equal(done.event?.seq, 1);
        const record = await store.executions.get(ref.owner, id);
        assert.ok(record);
        assert.equal(record.status, "success");
        assert.equal(record.tokensUsed, 40);
        assert.deepEqual(record.nodesExecuted, ["agent", "tools", "agent"]);
        assert.deepEqual(record.result, result);
        assert.ok(record.endedAt !== null && record.endedAt >= record.startedAt);
        assert.equal(record.durationMs, record.endedAt - record.startedAt);
        assert.equal(record.errorType, null);
        assert.equal(record.lastEventSeq, 1);

        const late = await store.executions.finish(
          id,
          { status: "cancelled", errorType: "cancelled", error: "too late" },
          { type: "error", data: {} },
        );
        assert.deepEqual(late, { finished: false, event: null });
        assert.equal((await store.executions.get(ref.owner, id))?.status, "success");
        assert.equal(await store.executions.updateProgress(id, { tokensUsed: 99 }), false);
        assert.equal(await store.events.append(id, { type: "token", data: {} }), null, "no events after the end");
        assert.deepEqual(await store.executions.finish(randomUUID(), { status: "success" }), {
          finished: false,
          event: null,
        });
      });

      test("an execution keeps its run's context as given, through its ending", TIMEOUT, async () => {
        const { ref } = ids("exec-context");
        const context = { user_id: "u-1", "odd key ✓": [1, { deep: null }] };
        const id = randomUUID();
        const created = await store.executions.create({
          id,
          owner: ref.owner,
          threadId: ref.threadId,
          runtime: "python",
          context,
        });
        assert.deepEqual(created.context, context);
        await store.executions.finish(id, { status: "success", result: {} });
        assert.deepEqual((await store.executions.get(ref.owner, id))?.context, context);
        assert.equal((await store.executions.get(ref.owner, await running(ref)))?.context, null, "none given: null");
        await assert.rejects(
          store.executions.create({
            id: randomUUID(),
            owner: ref.owner,
            threadId: ref.threadId,
            runtime: "python",
            context: [1] as unknown as Record<string, unknown>,
          }),
          /context must be a JSON object or null/,
        );
      });

      test("an error ending keeps its error_type, error and given duration", TIMEOUT, async () => {
        const { ref } = ids("exec-error");
        const id = await running(ref);
        await store.executions.finish(id, {
          status: "error",
          errorType: "timeout",
          error: "ran past 60000 ms",
          durationMs: 60_001,
        });
        const record = await store.executions.get(ref.owner, id);
        assert.equal(record?.status, "error");
        assert.equal(record?.errorType, "timeout");
        assert.equal(record?.error, "ran past 60000 ms");
        assert.equal(record?.durationMs, 60_001);
      });

      test("an execution and its events are invisible to another owner", TIMEOUT, async () => {
        const { ref, other } = ids("exec-owner");
        const id = await running(ref);
        await store.events.append(id, { type: "metadata", data: { execution_id: id } });
        assert.equal(await store.executions.get(other, id), null);
        assert.deepEqual(await store.executions.list(other), []);
        assert.deepEqual(await store.events.read(other, id, 0), []);
        assert.deepEqual(await collect(store.events.follow(other, id, 0), 2_000), []);
        assert.equal((await store.events.read(ref.owner, id, 0)).length, 1);
      });

      test("list: the owner's executions, newest first, optionally of one thread", TIMEOUT, async () => {
        const { ref } = ids("exec-list");
        const older = randomUUID();
        const newer = randomUUID();
        const elsewhere = randomUUID();
        const now = Date.now();
        await store.executions.create({
          id: older,
          owner: ref.owner,
          threadId: ref.threadId,
          runtime: "python",
          startedAt: now - 2000,
        });
        await store.executions.create({
          id: newer,
          owner: ref.owner,
          threadId: ref.threadId,
          runtime: "python",
          startedAt: now - 1000,
        });
        await store.executions.create({
          id: elsewhere,
          owner: ref.owner,
          threadId: "elsewhere",
          runtime: "python",
          startedAt: now,
        });
        assert.deepEqual(
          (await store.executions.list(ref.owner)).map((e) => e.id),
          [elsewhere, newer, older],
        );
        assert.deepEqual(
          (await store.executions.list(ref.owner, { threadId: ref.threadId })).map((e) => e.id),
          [newer, older],
        );
        assert.deepEqual(
          (await store.executions.list(ref.owner, { limit: 1 })).map((e) => e.id),
          [elsewhere],
        );
      });

      test(
        "markRunningAsFailed: the dead engine's running executions fail, end their logs and free their locks",
        TIMEOUT,
        async () => {
          const { ref, owner } = ids("restart");
          const dead = randomUUID();
          const alive = randomUUID();
          const deadEngine = `engine-${randomUUID()}`;
          const aliveEngine = `engine-${randomUUID()}`;
          await store.executions.create({
            id: dead,
            owner,
            threadId: ref.threadId,
            runtime: "python",
            engineId: deadEngine,
          });
          await store.executions.create({
            id: alive,
            owner,
            threadId: "other-thread",
            runtime: "python",
            engineId: aliveEngine,
          });
          const ended = await running(ref, deadEngine);
          await store.executions.finish(ended, { status: "success" });
          assert.equal((await store.threads.tryLock(ref, dead, 600_000)).acquired, true);
          await store.events.append(dead, { type: "node_start", data: { node: "agent", step: 1 } });

          const following = collect(store.events.follow(owner, dead, 0));
          const failed = await store.executions.markRunningAsFailed("the engine restarted", {
            engineId: deadEngine,
            finalEvent: (execution) => ({
              type: "error",
              data: { status: "error", error_type: "internal_error", execution_id: execution.id },
            }),
          });
          assert.deepEqual(failed, [dead]);

          const record = await store.executions.get(owner, dead);
          assert.equal(record?.status, "error");
          assert.equal(record?.errorType, "internal_error");
          assert.equal(record?.error, "the engine restarted");
          assert.ok(record?.endedAt);
          assert.deepEqual(
            (await following).map((e) => [e.seq, e.type]),
            [
              [1, "node_start"],
              [2, "error"],
            ],
          );
          assert.equal(
            (await store.executions.get(owner, alive))?.status,
            "running",
            "another engine's execution is left alone",
          );
          assert.equal((await store.executions.get(owner, ended))?.status, "success");
          assert.equal(
            (await store.threads.tryLock(ref, "successor", 60_000)).acquired,
            true,
            "its thread lock was released",
          );

          const all = await store.executions.markRunningAsFailed("restart");
          assert.ok(all.includes(alive));
          assert.ok(!all.includes(ended) && !all.includes(dead));
          assert.equal((await store.executions.get(owner, alive))?.status, "error");
          assert.deepEqual(await store.events.read(owner, alive, 0), [], "no final event unless asked for");
        },
      );
    });

    // -------------------------------------------------------------------------------- events

    describe("event log", () => {
      test(
        "append numbers events 1, 2, 3...; read returns those after an id (SSE Last-Event-ID)",
        TIMEOUT,
        async () => {
          const { ref } = ids("events");
          const id = await running(ref);
          const data = [
            { node: "a", step: 1 },
            { a: { messages: [{ role: "user", content: "héllo ✓ \u0000" }] } },
            { content: "x" },
            null,
            [1, 2],
          ];
          const appended: StoredEvent[] = [];
          for (const [i, d] of data.entries()) {
            const event = await store.events.append(id, { type: `t${i}`, data: d });
            assert.ok(event);
            appended.push(event);
          }
          assert.deepEqual(
            appended.map((e) => e.seq),
            [1, 2, 3, 4, 5],
          );
          const all = await store.events.read(ref.owner, id, 0);
          assert.deepEqual(all, appended);
          assert.deepEqual(
            all.map((e) => e.data),
            data,
          );
          assert.deepEqual(
            (await store.events.read(ref.owner, id, 3)).map((e) => e.seq),
            [4, 5],
          );
          assert.deepEqual(
            (await store.events.read(ref.owner, id, 5)).map((e) => e.seq),
            [],
          );
          assert.deepEqual(
            (await store.events.read(ref.owner, id, 1, { limit: 2 })).map((e) => e.seq),
            [2, 3],
          );
          assert.equal((await store.executions.get(ref.owner, id))?.lastEventSeq, 5);
          assert.equal(await store.events.append(randomUUID(), { type: "x", data: 1 }), null, "unknown execution");
        },
      );

      test("follow replays after an id, then delivers new events until the execution ends", TIMEOUT, async () => {
        const { ref } = ids("follow");
        const id = await running(ref);
        for (let i = 1; i <= 3; i++) await store.events.append(id, { type: "node_start", data: { step: i } });
        const following = collect(store.events.follow(ref.owner, id, 2));
        await sleep(20);
        await store.events.append(id, { type: "token", data: { content: "a" } });
        await sleep(20);
        await store.events.append(id, { type: "token", data: { content: "b" } });
        await store.executions.finish(id, { status: "success" }, { type: "complete", data: { status: "success" } });
        const events = await following;
        assert.deepEqual(
          events.map((e) => [e.seq, e.type]),
          [
            [3, "node_start"],
            [4, "token"],
            [5, "token"],
            [6, "complete"],
          ],
        );
        const replay = await collect(store.events.follow(ref.owner, id, 4));
        assert.deepEqual(
          replay.map((e) => e.seq),
          [5, 6],
          "a finished execution replays and ends",
        );
      });

      test("follow sees events another Store instance appends", TIMEOUT, async () => {
        const writer = await open();
        const { ref } = ids("follow-cross");
        const id = await running(ref);
        const following = collect(store.events.follow(ref.owner, id, 0));
        await sleep(20);
        for (let i = 0; i < 5; i++) await writer.events.append(id, { type: "update", data: { i } });
        await writer.executions.finish(
          id,
          { status: "interrupted" },
          { type: "complete", data: { status: "interrupted" } },
        );
        assert.deepEqual(
          (await following).map((e) => e.seq),
          [1, 2, 3, 4, 5, 6],
        );
      });

      test("follow ends when its signal aborts", TIMEOUT, async () => {
        const { ref } = ids("follow-abort");
        const id = await running(ref);
        await store.events.append(id, { type: "metadata", data: {} });
        const controller = new AbortController();
        const following = collect(store.events.follow(ref.owner, id, 0, { signal: controller.signal }));
        await sleep(50);
        controller.abort();
        assert.deepEqual(
          (await following).map((e) => e.seq),
          [1],
        );
      });

      test(
        "large events replay in bounded batches, each once, in order; read stops at its byte bound",
        TIMEOUT,
        async () => {
          const { ref } = ids("follow-large");
          const id = await running(ref);
          const chunk = "x".repeat(512 * 1024);
          for (let i = 0; i < 12; i++) await store.events.append(id, { type: "custom", data: { i, chunk } });
          await store.executions.finish(id, { status: "success" });
          const replayed = await collect(store.events.follow(ref.owner, id, 0));
          assert.deepEqual(
            replayed.map((e) => (e.data as { i: number }).i),
            Array.from({ length: 12 }, (_, i) => i),
          );
          const first = await store.events.read(ref.owner, id, 0);
          assert.ok(
            first.length >= 1 && first.length < 12,
            `one read holds a bounded slice, got ${first.length} of 12 events of 512 KiB`,
          );
          assert.deepEqual(
            first.map((e) => e.seq),
            Array.from({ length: first.length }, (_, i) => i + 1),
          );
        },
      );

      test("a follow of many events delivers each once, in order", TIMEOUT, async () => {
        const { ref } = ids("follow-many");
        const id = await running(ref);
        const following = collect(store.events.follow(ref.owner, id, 0));
        const total = 1_200;
        for (let i = 0; i < total; i++) await store.events.append(id, { type: "token", data: { i } });
        await store.executions.finish(id, { status: "success" });
        const seqs = (await following).map((e) => e.seq);
        assert.deepEqual(
          seqs,
          Array.from({ length: total }, (_, i) => i + 1),
        );
      });
    });

    // -------------------------------------------------------------------------------- checkpoints

    describe("checkpoints", () => {
      test("put / getTuple: the latest, or a given id, with its parent, blob and metadata", TIMEOUT, async () => {
        const { ref } = ids("cp");
        assert.equal(await store.checkpoints.getTuple(ref), null);
        const [c1, c2, c3] = [uuid6(), uuid6(), uuid6()];
        const binary = new Uint8Array([0, 255, 1, 0, 128, 0]);
        await store.checkpoints.put(ref, {
          checkpointId: c1,
          checkpoint: blob("one", "msgpack"),
          metadata: { source: "input", step: -1, parents: {} },
        });
        await store.checkpoints.put(ref, {
          checkpointId: c2,
          parentCheckpointId: c1,
          checkpoint: { type: "bytes", bytes: binary },
          metadata: { source: "loop", step: 0 },
        });
        await store.checkpoints.put(ref, {
          checkpointId: c3,
          parentCheckpointId: c2,
          checkpoint: { type: "empty", bytes: new Uint8Array(0) },
          metadata: { source: "loop", step: 1 },
        });

        const latest = await store.checkpoints.getTuple(ref);
        assert.ok(latest);
        assert.equal(latest.checkpointId, c3);
        assert.equal(latest.parentCheckpointId, c2);
        assert.equal(latest.checkpointNs, "");
        assert.equal(latest.threadId, ref.threadId);
        assert.equal(latest.checkpoint.type, "empty");
        assert.equal(latest.checkpoint.bytes.byteLength, 0);
        assert.deepEqual(latest.pendingWrites, []);

        const middle = await store.checkpoints.getTuple(ref, { checkpointId: c2 });
        assert.equal(middle?.checkpoint.type, "bytes");
        assert.deepEqual(new Uint8Array(middle?.checkpoint.bytes ?? []), binary);
        assert.deepEqual(middle?.metadata, { source: "loop", step: 0 });

        const first = await store.checkpoints.getTuple(ref, { checkpointId: c1, checkpointNs: "" });
        assert.equal(first?.parentCheckpointId, null);
        assert.equal(text(first?.checkpoint ?? blob("")), "one");
        assert.deepEqual(first?.metadata, { source: "input", step: -1, parents: {} });
        assert.equal(await store.checkpoints.getTuple(ref, { checkpointId: uuid6() }), null);
      });

      test(
        "put refuses an id that does not sort after every id of its namespace, and writes nothing",
        TIMEOUT,
        async () => {
          const { ref } = ids("cp-order");
          const [early, c1, c2] = [uuid6(), uuid6(), uuid6()];
          await store.checkpoints.put(ref, { checkpointId: c1, checkpoint: blob("v1"), metadata: { v: 1 } });
          await store.checkpoints.put(ref, {
            checkpointId: c2,
            parentCheckpointId: c1,
            checkpoint: blob("v2"),
            metadata: { v: 2 },
          });
          // The same id again (no replacing), and one older than the head.
          await rejectsWithCode(
            store.checkpoints.put(ref, { checkpointId: c2, checkpoint: blob("again"), metadata: {} }),
            "GBX_STORE_CHECKPOINT_NOT_NEWER",
          );
          await rejectsWithCode(
            store.checkpoints.put(ref, { checkpointId: early, checkpoint: blob("slipped in"), metadata: {} }),
            "GBX_STORE_CHECKPOINT_NOT_NEWER",
          );
          // An id between two stored ones is not new either (it would rewrite history).
          await rejectsWithCode(
            store.checkpoints.put(ref, { checkpointId: `${c1}0`, checkpoint: blob("between"), metadata: {} }),
            "GBX_STORE_CHECKPOINT_NOT_NEWER",
          );
          assert.deepEqual(
            (await store.checkpoints.list(ref)).map((c) => [c.checkpointId, text(c.checkpoint)]),
            [
              [c2, "v2"],
              [c1, "v1"],
            ],
          );
          // Time travel: a fork from c1 writes a new id whose parent is older than the head.
          const fork = uuid6();
          await store.checkpoints.put(ref, {
            checkpointId: fork,
            parentCheckpointId: c1,
            checkpoint: blob("fork"),
            metadata: {},
          });
          assert.equal((await store.checkpoints.getTuple(ref))?.checkpointId, fork);
          // Each namespace has its own order.
          await store.checkpoints.put(ref, {
            checkpointNs: "sub:task",
            checkpointId: early,
            checkpoint: blob("sub"),
            metadata: {},
          });
          assert.equal((await store.checkpoints.getTuple(ref, { checkpointNs: "sub:task" }))?.checkpointId, early);
        },
      );

      test("the head is the checkpoint written last; getHeadState reads it without its blob", TIMEOUT, async () => {
        const { ref, otherRef } = ids("cp-head");
        assert.equal(await store.checkpoints.getHeadState(ref), null);
        const [c1, c2] = [uuid6(), uuid6()];
        await store.checkpoints.put(ref, {
          checkpointId: c1,
          checkpoint: blob("one"),
          metadata: { step: 0 },
          values: { n: 1 },
        });
        await store.checkpoints.put(ref, {
          checkpointNs: "sub:task",
          checkpointId: uuid6(),
          checkpoint: blob("sub"),
          metadata: {},
          values: { sub: true },
        });
        await store.checkpoints.put(ref, {
          checkpointId: c2,
          parentCheckpointId: c1,
          checkpoint: blob("two"),
          metadata: { step: 1 },
          values: { n: 2 },
        });
        const state = await store.checkpoints.getHeadState(ref);
        assert.deepEqual(
          { ...state, createdAt: 0 },
          {
            checkpointNs: "",
            checkpointId: c2,
            parentCheckpointId: c1,
            metadata: { step: 1 },
            values: { n: 2 },
            createdAt: 0,
          },
        );
        assert.equal((await store.checkpoints.getHeadState(ref, { checkpointNs: "sub:task" }))?.values && true, true);
        assert.equal(await store.checkpoints.getHeadState(otherRef), null);
      });

      test(
        "maxThreadBytes: a write that would pass the thread's quota is refused whole; deleteThread frees it",
        TIMEOUT,
        async () => {
          const { ref } = ids("cp-quota");
          const max = { maxThreadBytes: 1000 };
          const big = (n: number): TypedBlob => ({ type: "msgpack", bytes: new Uint8Array(n) });
          const c1 = uuid6();
          await store.checkpoints.put(ref, { checkpointId: c1, checkpoint: big(400), metadata: {} }, max); // 400 + "{}"
          await store.checkpoints.putWrites(
            ref,
            { checkpointId: c1, taskId: "t" },
            [{ idx: 0, channel: "a", value: big(300) }],
            max,
          );
          await rejectsWithCode(
            store.checkpoints.putWrites(
              ref,
              { checkpointId: c1, taskId: "t" },
              [
                { idx: 1, channel: "a", value: big(100) },
                { idx: 2, channel: "b", value: big(250) },
              ],
              max,
            ),
            "GBX_STORE_QUOTA_EXCEEDED",
          );
          assert.equal(
            (await store.checkpoints.getTuple(ref))?.pendingWrites.length,
            1,
            "nothing of the refused writes was kept",
          );
          await rejectsWithCode(
            store.checkpoints.put(ref, { checkpointId: uuid6(), checkpoint: big(299), metadata: {} }, max),
            "GBX_STORE_QUOTA_EXCEEDED",
          );
          // A write kept as first written adds nothing; a replaced special write counts its new size only.
          await store.checkpoints.putWrites(
            ref,
            { checkpointId: c1, taskId: "t" },
            [{ idx: 0, channel: "a", value: big(300) }],
            max,
          );
          await store.checkpoints.putWrites(
            ref,
            { checkpointId: c1, taskId: "t" },
            [{ idx: -1, channel: "__error__", value: big(200) }],
            max,
          );
          await store.checkpoints.putWrites(
            ref,
            { checkpointId: c1, taskId: "t" },
            [{ idx: -1, channel: "__error__", value: big(250) }],
            max,
          );
          await rejectsWithCode(
            store.checkpoints.putWrites(
              ref,
              { checkpointId: c1, taskId: "t" },
              [{ idx: -1, channel: "__error__", value: big(300) }],
              max,
            ),
            "GBX_STORE_QUOTA_EXCEEDED",
          );
          await store.checkpoints.deleteThread(ref);
          await store.checkpoints.put(ref, { checkpointId: uuid6(), checkpoint: big(900), metadata: {} }, max);
        },
      );

      test(
        "maxBytes bounds a read: getTuple refuses a larger checkpoint, list stops before the one that would pass it",
        TIMEOUT,
        async () => {
          const { ref } = ids("cp-read");
          const made: string[] = [];
          for (let i = 0; i < 4; i++) {
            const id = uuid6();
            await store.checkpoints.put(ref, {
              checkpointId: id,
              checkpoint: { type: "msgpack", bytes: new Uint8Array(100) },
              metadata: {},
            });
            made.push(id);
          }
          await store.checkpoints.putWrites(ref, { checkpointId: made[3] as string, taskId: "t" }, [
            { idx: 0, channel: "c", value: { type: "msgpack", bytes: new Uint8Array(100) } },
          ]);
          // Each costs its blob and metadata ("{}"); the newest also its write.
          assert.equal((await store.checkpoints.getTuple(ref, { maxBytes: 202 }))?.checkpointId, made[3]);
          await rejectsWithCode(store.checkpoints.getTuple(ref, { maxBytes: 201 }), "GBX_STORE_READ_TOO_LARGE");
          assert.deepEqual(
            (await store.checkpoints.list(ref, { maxBytes: 202 + 102 + 101 })).map((c) => c.checkpointId),
            [made[3], made[2]],
          );
          assert.deepEqual(
            (await store.checkpoints.list(ref, { before: made[3], maxBytes: 102 * 3 })).map((c) => c.checkpointId),
            [made[2], made[1], made[0]],
          );
          await rejectsWithCode(store.checkpoints.list(ref, { maxBytes: 150 }), "GBX_STORE_READ_TOO_LARGE");
        },
      );

      test("list: newest first, with before, limit and a metadata filter", TIMEOUT, async () => {
        const { ref } = ids("cp-list");
        const made: string[] = [];
        for (let step = -1; step < 5; step++) {
          const id = uuid6();
          await store.checkpoints.put(ref, {
            checkpointId: id,
            parentCheckpointId: made.at(-1) ?? null,
            checkpoint: blob(`s${step}`),
            metadata: {
              source: step < 0 ? "input" : "loop",
              step,
              writes: step === 2 ? { agent: { n: [1, 2] } } : null,
            },
          });
          made.push(id);
        }
        const newestFirst = [...made].reverse();
        assert.deepEqual(
          (await store.checkpoints.list(ref)).map((c) => c.checkpointId),
          newestFirst,
        );
        assert.deepEqual(
          (await store.checkpoints.list(ref, { limit: 2 })).map((c) => c.checkpointId),
          newestFirst.slice(0, 2),
        );
        assert.deepEqual(
          (await store.checkpoints.list(ref, { before: made[3] })).map((c) => c.checkpointId),
          [made[2], made[1], made[0]],
        );
        assert.deepEqual(
          (await store.checkpoints.list(ref, { before: made[3], limit: 1 })).map((c) => c.checkpointId),
          [made[2]],
        );
        assert.deepEqual(
          (await store.checkpoints.list(ref, { filter: { source: "input" } })).map((c) => c.checkpointId),
          [made[0]],
        );
        assert.deepEqual(
          (await store.checkpoints.list(ref, { filter: { source: "loop", step: 1 } })).map((c) => c.checkpointId),
          [made[2]],
        );
        assert.deepEqual(
          (await store.checkpoints.list(ref, { filter: { writes: { agent: { n: [1, 2] } } } })).map(
            (c) => c.checkpointId,
          ),
          [made[3]],
        );
        assert.deepEqual(
          (await store.checkpoints.list(ref, { filter: { source: "loop" }, limit: 2 })).map((c) => c.checkpointId),
          newestFirst.slice(0, 2),
        );
        assert.deepEqual(
          (await store.checkpoints.list(ref, { filter: { source: "loop" }, before: made[2] })).map(
            (c) => c.checkpointId,
          ),
          [made[1]],
        );
        assert.deepEqual(await store.checkpoints.list(ref, { filter: { source: "update" } }), []);
      });

      test("namespaces: getTuple reads one (default the root), list reads all unless told", TIMEOUT, async () => {
        const { ref } = ids("cp-ns");
        const root = uuid6();
        const child = uuid6();
        await store.checkpoints.put(ref, { checkpointId: root, checkpoint: blob("root"), metadata: {} });
        await store.checkpoints.put(ref, {
          checkpointNs: "sub:task-1",
          checkpointId: child,
          checkpoint: blob("child"),
          metadata: {},
        });
        assert.equal((await store.checkpoints.getTuple(ref))?.checkpointId, root);
        assert.equal((await store.checkpoints.getTuple(ref, { checkpointNs: "sub:task-1" }))?.checkpointId, child);
        assert.equal(await store.checkpoints.getTuple(ref, { checkpointNs: "sub:task-1", checkpointId: root }), null);
        assert.deepEqual(
          (await store.checkpoints.list(ref)).map((c) => [c.checkpointNs, c.checkpointId]),
          [
            ["sub:task-1", child],
            ["", root],
          ],
        );
        assert.deepEqual(
          (await store.checkpoints.list(ref, { checkpointNs: "" })).map((c) => c.checkpointId),
          [root],
        );
      });

      test("putWrites: pending writes by task and idx, idempotent as LangGraph's savers", TIMEOUT, async () => {
        const { ref } = ids("writes");
        const c1 = uuid6();
        const c2 = uuid6();
        await store.checkpoints.put(ref, { checkpointId: c1, checkpoint: blob("c1"), metadata: {} });
        await store.checkpoints.put(ref, {
          checkpointId: c2,
          parentCheckpointId: c1,
          checkpoint: blob("c2"),
          metadata: {},
        });

        await store.checkpoints.putWrites(
          ref,
          { checkpointId: c1, taskId: "task-b", taskPath: "~__pregel_pull, agent" },
          [
            { idx: 0, channel: "messages", value: blob("b0") },
            { idx: 1, channel: "count", value: blob("b1", "msgpack") },
          ],
        );
        await store.checkpoints.putWrites(ref, { checkpointId: c1, taskId: "task-a" }, [
          { idx: 0, channel: "messages", value: blob("a0") },
        ]);
        // A retried task writes again: ordinary writes keep what was first written...
        await store.checkpoints.putWrites(ref, { checkpointId: c1, taskId: "task-b" }, [
          { idx: 0, channel: "messages", value: blob("b0-retry") },
        ]);
        // ...special ones (negative idx: errors, interrupts) are replaced.
        await store.checkpoints.putWrites(ref, { checkpointId: c1, taskId: "task-a" }, [
          { idx: -1, channel: "__error__", value: blob("first error") },
        ]);
        await store.checkpoints.putWrites(ref, { checkpointId: c1, taskId: "task-a" }, [
          { idx: -1, channel: "__error__", value: blob("second error") },
        ]);
        await store.checkpoints.putWrites(ref, { checkpointId: c2, taskId: "task-c" }, [
          { idx: -3, channel: "__interrupt__", value: blob("ask") },
        ]);

        const tuple = await store.checkpoints.getTuple(ref, { checkpointId: c1 });
        assert.deepEqual(
          tuple?.pendingWrites.map((w) => [w.taskId, w.idx, w.channel, w.value.type, text(w.value), w.taskPath]),
          [
            ["task-a", -1, "__error__", "json", "second error", ""],
            ["task-a", 0, "messages", "json", "a0", ""],
            ["task-b", 0, "messages", "json", "b0", "~__pregel_pull, agent"],
            ["task-b", 1, "count", "msgpack", "b1", "~__pregel_pull, agent"],
          ],
        );
        const latest = await store.checkpoints.getTuple(ref);
        assert.deepEqual(
          latest?.pendingWrites.map((w) => [w.taskId, w.idx, text(w.value)]),
          [["task-c", -3, "ask"]],
        );
        const listed = await store.checkpoints.list(ref);
        assert.deepEqual(
          listed.map((c) => c.pendingWrites.length),
          [1, 4],
        );
      });

      test("deleteThread removes the thread's checkpoints and writes, and nobody else's", TIMEOUT, async () => {
        const { ref, otherRef } = ids("cp-delete");
        const keep = { owner: ref.owner, threadId: `${ref.threadId}-keep` };
        for (const r of [ref, otherRef, keep]) {
          const id = uuid6();
          await store.checkpoints.put(r, { checkpointId: id, checkpoint: blob("x"), metadata: {} });
          await store.checkpoints.putWrites(r, { checkpointId: id, taskId: "t" }, [
            { idx: 0, channel: "c", value: blob("w") },
          ]);
        }
        await store.checkpoints.deleteThread(ref);
        assert.equal(await store.checkpoints.getTuple(ref), null);
        assert.deepEqual(await store.checkpoints.list(ref), []);
        assert.equal((await store.checkpoints.getTuple(otherRef))?.pendingWrites.length, 1);
        assert.equal((await store.checkpoints.getTuple(keep))?.pendingWrites.length, 1);
      });

      test("a checkpoint that is not {type, bytes} is refused", TIMEOUT, async () => {
        const { ref } = ids("cp-bad");
        const bad = { type: "json", bytes: "not bytes" } as unknown as TypedBlob;
        await rejectsWithCode(
          store.checkpoints.put(ref, { checkpointId: uuid6(), checkpoint: bad, metadata: {} }),
          "GBX_STORE_INVALID_ARGUMENT",
        );
        await rejectsWithCode(
          store.checkpoints.putWrites(ref, { checkpointId: uuid6(), taskId: "t" }, [
            { idx: 0, channel: "c", value: bad },
          ]),
          "GBX_STORE_INVALID_ARGUMENT",
        );
      });
    });

    // -------------------------------------------------------------------------------- Agent API records

    agentRecordCases({ store: () => store, open });

    // -------------------------------------------------------------------------------- durability

    describe("items (LangGraph's long-term memory store)", () => itemStoreCases(() => store, open));

    clusterCases(() => store, open);
    runQueueCases(() => store, open);

    describe("durability and sharing", () => {
      test("closing and reopening the same data keeps everything", TIMEOUT, async () => {
        const first = await open();
        const { ref } = ids("reopen");
        await first.threads.ensure({ ...ref, runtime: "js", status: "interrupted" });
        const id = randomUUID();
        await first.executions.create({ id, owner: ref.owner, threadId: ref.threadId, runtime: "js" });
        await first.events.append(id, { type: "metadata", data: { execution_id: id } });
        await first.executions.finish(
          id,
          { status: "interrupted", result: { next: ["human"] } },
          { type: "complete", data: { status: "interrupted" } },
        );
        const cp = uuid6();
        await first.checkpoints.put(ref, {
          checkpointId: cp,
          checkpoint: { type: "msgpack", bytes: new Uint8Array([1, 2, 3]) },
          metadata: { step: 3 },
        });
        await first.checkpoints.putWrites(ref, { checkpointId: cp, taskId: "t" }, [
          { idx: -3, channel: "__interrupt__", value: blob("q") },
        ]);
        assert.equal((await first.threads.tryLock(ref, id, 600_000)).acquired, true);
        const before = {
          thread: await first.threads.get(ref),
          execution: await first.executions.get(ref.owner, id),
          events: await first.events.read(ref.owner, id, 0),
          tuple: await first.checkpoints.getTuple(ref),
        };
        await first.close();

        const reopened = await open();
        assert.deepEqual(await reopened.threads.get(ref), before.thread);
        assert.deepEqual(await reopened.executions.get(ref.owner, id), before.execution);
        assert.deepEqual(await reopened.events.read(ref.owner, id, 0), before.events);
        const tuple = await reopened.checkpoints.getTuple(ref);
        assert.deepEqual(
          { ...tuple, checkpoint: null, pendingWrites: null },
          { ...before.tuple, checkpoint: null, pendingWrites: null },
        );
        assert.deepEqual(new Uint8Array(tuple?.checkpoint.bytes ?? []), new Uint8Array([1, 2, 3]));
        assert.equal(text(tuple?.pendingWrites[0]?.value ?? blob("")), "q");
        assert.equal(
          (await reopened.threads.tryLock(ref, "someone-else", 1000)).acquired,
          false,
          "the lock survives too",
        );
      });

      test("two Store instances writing at once: every write lands, seqs stay unique and dense", TIMEOUT, async () => {
        const other = await open();
        const { ref } = ids("concurrent");
        const id = await running(ref);
        const writes: Promise<unknown>[] = [];
        const perStore = 150;
        for (let i = 0; i < perStore; i++) {
          for (const [n, s] of [store, other].entries()) {
            writes.push(s.events.append(id, { type: "update", data: { from: n, i } }));
            const threadRef = { owner: ref.owner, threadId: `${ref.threadId}-${i % 3}` };
            writes.push(
              s.checkpoints.put(threadRef, {
                checkpointId: uuid6(),
                checkpoint: blob(`${n}:${i}`),
                metadata: { from: n, i },
              }),
            );
            writes.push(
              s.checkpoints.putWrites(threadRef, { checkpointId: "shared", taskId: `task-${i}` }, [
                { idx: 0, channel: "c", value: blob(`${n}`) },
              ]),
            );
          }
        }
        await Promise.all(writes);
        for (const s of [store, other]) {
          const events = await s.events.read(ref.owner, id, 0, { limit: 1000 });
          assert.deepEqual(
            events.map((e) => e.seq),
            Array.from({ length: 2 * perStore }, (_, i) => i + 1),
          );
          for (const from of [0, 1]) {
            assert.deepEqual(
              events.filter((e) => (e.data as { from: number }).from === from).map((e) => (e.data as { i: number }).i),
              Array.from({ length: perStore }, (_, i) => i),
            );
          }
          let checkpoints = 0;
          for (let t = 0; t < 3; t++)
            checkpoints += (await s.checkpoints.list({ owner: ref.owner, threadId: `${ref.threadId}-${t}` })).length;
          assert.equal(checkpoints, 2 * perStore);
        }
      });

      test("close is idempotent, and a closed store refuses calls and ends its follows", TIMEOUT, async () => {
        const doomed = await open();
        const { ref } = ids("close");
        const id = randomUUID();
        await doomed.executions.create({ id, owner: ref.owner, threadId: ref.threadId, runtime: "python" });
        const following = collect(doomed.events.follow(ref.owner, id, 0));
        await sleep(20);
        await doomed.close();
        await doomed.close();
        assert.deepEqual(await following, []);
        await rejectsWithCode(doomed.threads.get(ref), "GBX_STORE_CLOSED");
        await rejectsWithCode(
          doomed.events.append(id, { type: "x", data: null } satisfies NewEvent),
          "GBX_STORE_CLOSED",
        );
        await rejectsWithCode(doomed.checkpoints.getTuple(ref), "GBX_STORE_CLOSED");
        assert.equal((await store.executions.get(ref.owner, id))?.status, "running", "the other instances carry on");
      });
    });
  });
}
