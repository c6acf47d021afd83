/**
 * The conformance cases for engines sharing one database: leases, the sweep of dead engines'
 * executions, cancels asked on any engine, and the signals that wake other Store instances.
 * Called by `storeConformanceSuite`; the data may be shared with other cases, so every case
 * uses engine ids and owners of its own and checks only those.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import type { EventNotifier, Store } from "../../src/store/index.ts";

const TIMEOUT = { timeout: 20_000 };

/** Resolves with the number of wake-ups once `notifier` has fired for `key`, or 0 after `ms`. */
function wokenWithin(notifier: EventNotifier, key: string, ms: number): { woken: Promise<number>; stop: () => void } {
  let count = 0;
  let resolve: (n: number) => void = () => undefined;
  const woken = new Promise<number>((r) => (resolve = r));
  const unsubscribe = notifier.subscribe(key, () => {
    count++;
    resolve(count);
  });
  const timer = setTimeout(() => resolve(0), ms);
  return {
    woken: woken.finally(() => {
      clearTimeout(timer);
      unsubscribe();
    }),
    stop: unsubscribe,
  };
}

export function clusterCases(current: () => Store, open: () => Promise<Store>): void {
  const engine = (name: string): { engineId: string; address: string } => ({
    engineId: `${name}-${randomUUID()}`,
    address: `127.0.0.1:${1000 + Math.floor(Math.random() * 9000)}`,
  });

  describe("engines sharing the database", () => {
    test("heartbeat registers, then renews; live lists unexpired leases; leave removes", TIMEOUT, async () => {
      const store = current();
      const a = engine("a");
      assert.equal(await store.cluster.heartbeat(a, 60_000), false, "first heartbeat: nothing to renew");
      const first = (await store.cluster.live()).find((l) => l.engineId === a.engineId);
      assert.ok(first, "registered");
      assert.equal(first.address, a.address);
      assert.ok(first.expiresAt >= first.heartbeatAt + 59_000);
      await sleep(5);
      assert.equal(await store.cluster.heartbeat({ ...a, address: "10.0.0.1:8080" }, 60_000), true);
      const renewed = (await store.cluster.live()).find((l) => l.engineId === a.engineId);
      assert.equal(renewed?.startedAt, first.startedAt, "a renewal keeps the start");
      assert.ok((renewed?.heartbeatAt ?? 0) > first.heartbeatAt);
      assert.equal(renewed?.address, "10.0.0.1:8080");
      await store.cluster.leave(a.engineId);
      assert.equal(
        (await store.cluster.live()).find((l) => l.engineId === a.engineId),
        undefined,
      );
    });

    test(
      "an expired lease is not live, is reaped by exactly one of two reapers, and its engine learns it",
      TIMEOUT,
      async () => {
        const store = current();
        const second = await open();
        const dead = engine("dead");
        const alive = engine("alive");
        await store.cluster.heartbeat(dead, 1);
        await store.cluster.heartbeat(alive, 60_000);
        await sleep(20);
        const live = (await store.cluster.live()).map((l) => l.engineId);
        assert.ok(!live.includes(dead.engineId) && live.includes(alive.engineId));
        const [one, two] = await Promise.all([store.cluster.reapExpired(), second.cluster.reapExpired()]);
        assert.equal([...one, ...two].filter((id) => id === dead.engineId).length, 1, "reaped once");
        assert.ok(![...one, ...two].includes(alive.engineId));
        assert.equal(
          await store.cluster.heartbeat(dead, 60_000),
          false,
          "the reaped engine is told: no lease was renewed",
        );
        assert.ok(
          (await store.cluster.live()).some((l) => l.engineId === dead.engineId),
          "and is registered again",
        );
        await store.cluster.leave(dead.engineId);
        await store.cluster.leave(alive.engineId);
      },
    );

    test("the sweep fails only executions of engines without a lease, and frees their threads", TIMEOUT, async () => {
      const store = current();
      const owner = `sweep-${randomUUID()}`;
      const alive = engine("alive");
      const gone = engine("gone");
      await store.cluster.heartbeat(alive, 60_000);
      const make = async (engineId: string | null): Promise<string> => {
        const id = randomUUID();
        const thread = { owner, threadId: `t-${id}` };
        assert.equal((await store.threads.tryLock(thread, id, 60_000)).acquired, true);
        await store.executions.create({ id, owner, threadId: thread.threadId, runtime: "python", engineId });
        return id;
      };
      const ofAlive = await make(alive.engineId);
      const ofGone = await make(gone.engineId);
      const ofNone = await make(null);
      const failed = await store.executions.markRunningAsFailed("its engine died", {
        ofDeadEngines: true,
        finalEvent: (execution) => ({
          type: "error",
          data: { execution_id: execution.id, error_type: "internal_error" },
        }),
      });
      assert.ok(failed.includes(ofGone) && failed.includes(ofNone));
      assert.ok(!failed.includes(ofAlive), "a live engine's execution is never touched");
      assert.equal((await store.executions.get(owner, ofAlive))?.status, "running");
      for (const id of [ofGone, ofNone]) {
        const record = await store.executions.get(owner, id);
        assert.equal(record?.status, "error");
        assert.equal(record?.errorType, "internal_error");
        assert.equal(record?.error, "its engine died");
        const events = await store.events.read(owner, id, 0);
        assert.equal(events.at(-1)?.type, "error", "its stream ends");
        const lock = await store.threads.tryLock({ owner, threadId: `t-${id}` }, "next", 60_000);
        assert.equal(lock.acquired, true, "its thread is free");
      }
      const lock = await store.threads.tryLock({ owner, threadId: `t-${ofAlive}` }, "next", 60_000);
      assert.equal(lock.acquired, false, "the live engine keeps its lock");
      await store.cluster.leave(alive.engineId);
    });

    test("a cancel asked on any instance reaches the running engine once, signalled by its id", TIMEOUT, async () => {
      const store = current();
      const other = await open();
      const owner = `cancel-${randomUUID()}`;
      const runner = engine("runner");
      const id = randomUUID();
      await store.executions.create({ id, owner, threadId: "t", runtime: "js", engineId: runner.engineId });
      const ended = randomUUID();
      await store.executions.create({ id: ended, owner, threadId: "t2", runtime: "js", engineId: runner.engineId });
      await store.executions.finish(ended, { status: "success" });

      const signal = wokenWithin(store.signals.cancels, runner.engineId, 5_000);
      assert.equal(await other.executions.requestCancel(`${owner}-not`, id, "interrupt"), false, "not the owner's");
      assert.equal(await other.executions.requestCancel(owner, ended, "interrupt"), false, "not running");
      assert.equal(await other.executions.requestCancel(owner, randomUUID(), "interrupt"), false, "unknown");
      assert.deepEqual(await store.executions.takeCancelRequests(runner.engineId), [], "nothing asked yet");
      assert.equal(await other.executions.requestCancel(owner, id, "rollback"), true);
      assert.ok((await signal.woken) > 0, "the running engine is woken");
      assert.deepEqual(await store.executions.takeCancelRequests(`${runner.engineId}-else`), []);
      assert.deepEqual(await store.executions.takeCancelRequests(runner.engineId), [
        { executionId: id, action: "rollback" },
      ]);
      assert.deepEqual(await store.executions.takeCancelRequests(runner.engineId), [], "handed out once");
      await assert.rejects(other.executions.requestCancel(owner, id, "stop" as "interrupt"));
    });

    test("an event appended through one instance wakes a follower of another", TIMEOUT, async () => {
      const store = current();
      const other = await open();
      const owner = `signal-${randomUUID()}`;
      const id = randomUUID();
      await store.executions.create({ id, owner, threadId: "t", runtime: "python" });
      const signal = wokenWithin(store.signals.events, id, 5_000);
      await other.events.append(id, { type: "node_start", data: { node: "a" } });
      assert.ok((await signal.woken) > 0);
      const runs = wokenWithin(store.signals.runs, "some-key", 5_000);
      other.signals.runs.publish("some-key");
      assert.ok((await runs.woken) > 0, "a published key reaches the other instance's subscribers");
    });

    test("a long key is delivered to its subscribers as it was published", TIMEOUT, async () => {
      const store = current();
      const other = await open();
      const key = `${"owner-".repeat(200)}\u0000thread-${randomUUID()}`;
      const signal = wokenWithin(store.signals.runs, key, 5_000);
      const unrelated = wokenWithin(store.signals.runs, `${key}x`, 300);
      other.signals.runs.publish(key);
      assert.ok((await signal.woken) > 0);
      assert.equal(await unrelated.woken, 0, "another key is not woken");
    });
  });
}
