/**
 * The conformance cases of the durable run queue (`RunStore.claimNext`, `unclaim`,
 * `recoverFromDeadEngines`): every backend passes them, through the `Store` interface only. Owners
 * and threads are each test's own; a test that claims from the whole queue first drains what
 * earlier tests left pending.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { setImmediate as tick } from "node:timers/promises";

import { RUNS_ANY, type NewRun, type RunRecord, type Store } from "../../src/store/index.ts";

const TIMEOUT = { timeout: 30_000 };

const ownerOf = (prefix: string): string => `${prefix}-owner-${randomUUID()}`;

const pending = (owner: string, threadId: string | null, extra: Partial<NewRun> = {}): NewRun => ({
  owner,
  runId: randomUUID(),
  threadId,
  assistantId: "agent",
  status: "pending",
  metadata: {},
  multitaskStrategy: "enqueue",
  kwargs: { input: { n: 1 } },
  ...extra,
});

/** Resolves on the next publish of `key` on `store.signals.runs`. */
function nextSignal(store: Store, key: string): Promise<void> {
  return new Promise((resolve) => {
    const unsubscribe = store.signals.runs.subscribe(key, () => {
      unsubscribe();
      resolve();
    });
  });
}

/**
 * Claims every claimable run left by earlier tests (for an engine that never had a lease), so that
 * a claim from the whole queue finds only this test's runs.
 */
async function drain(store: Store): Promise<void> {
  const drainer = `drained-${randomUUID()}`;
  for (let i = 0; i < 100_000; i++) if ((await store.runs.claimNext(drainer)) === null) return;
  assert.fail("the queue did not drain");
}

export function runQueueCases(current: () => Store, open: () => Promise<Store>): void {
  test("a run is created unclaimed; a pending unclaimed run wakes the dispatchers", TIMEOUT, async () => {
    const store = current();
    const owner = ownerOf("queue-create");
    const woken = nextSignal(store, RUNS_ANY);
    const queued = await store.runs.create(pending(owner, "t"));
    assert.equal(queued.engineId, null);
    assert.equal(queued.startedFrom, null);
    await woken;
    const claimed = await store.runs.create(pending(owner, "u", { engineId: "engine-1" }));
    assert.equal(claimed.engineId, "engine-1");
    assert.deepEqual(await store.runs.get(owner, claimed.runId), claimed);

    await store.runs.update(claimed.runId, { status: "running", executionId: "x", startedFrom: "cp-1" });
    assert.equal((await store.runs.get(owner, claimed.runId))?.startedFrom, "cp-1");
    await store.runs.update(claimed.runId, { status: "success" });
    assert.equal((await store.runs.get(owner, claimed.runId))?.startedFrom, "cp-1", "kept when not given");
    await store.runs.update(claimed.runId, { status: "success", startedFrom: null });
    assert.equal((await store.runs.get(owner, claimed.runId))?.startedFrom, null);
  });

  test("claimNext takes a thread's oldest pending run, one at a time, in order", TIMEOUT, async () => {
    const store = current();
    const owner = ownerOf("queue-order");
    const other = ownerOf("queue-order-other");
    const t = { owner, threadId: "t" };
    const first = await store.runs.create(pending(owner, "t"));
    const second = await store.runs.create(pending(owner, "t"));
    const elsewhere = await store.runs.create(pending(owner, "u"));
    const theirs = await store.runs.create(pending(other, "t"));

    const claimed = await store.runs.claimNext("engine-a", t);
    assert.equal(claimed?.runId, first.runId);
    assert.equal(claimed?.engineId, "engine-a");
    assert.equal(claimed?.status, "pending", "a claim does not start the run");
    assert.ok((claimed?.updatedAt ?? 0) >= first.updatedAt);
    assert.deepEqual(await store.runs.get(owner, first.runId), claimed);
    assert.equal(await store.runs.claimNext("engine-b", t), null, "the thread's first run is claimed");
    assert.equal((await store.runs.claimNext("engine-b", { owner, threadId: "u" }))?.runId, elsewhere.runId);
    assert.equal(
      (await store.runs.claimNext("engine-b", { owner: other, threadId: "t" }))?.runId,
      theirs.runId,
      "another owner's thread of the same id is another thread",
    );

    await store.runs.update(first.runId, { status: "running", executionId: "e1" });
    assert.equal(await store.runs.claimNext("engine-b", t), null, "the thread's run is running");
    await store.runs.update(first.runId, { status: "success" });
    const next = await store.runs.claimNext("engine-b", t);
    assert.equal(next?.runId, second.runId);
    assert.equal(next?.engineId, "engine-b");
    assert.equal(await store.runs.claimNext("engine-a", t), null);
    assert.equal(await store.runs.claimNext("engine-a", { owner, threadId: "nothing-here" }), null);
  });

  test("a run claimed at creation or running blocks the thread's older pending runs", TIMEOUT, async () => {
    const store = current();
    const owner = ownerOf("queue-blocked");
    const t = { owner, threadId: "t" };
    const waiting = await store.runs.create(pending(owner, "t"));
    const started = await store.runs.create(pending(owner, "t", { engineId: "engine-a" }));
    assert.equal(await store.runs.claimNext("engine-b", t), null, "a newer run claimed by an engine");
    await store.runs.update(started.runId, { status: "running" });
    assert.equal(await store.runs.claimNext("engine-b", t), null, "a newer run running");
    await store.runs.update(started.runId, { status: "interrupted" });
    assert.equal((await store.runs.claimNext("engine-b", t))?.runId, waiting.runId);

    const u = { owner, threadId: "u" };
    await store.runs.create(pending(owner, "u", { status: "running", engineId: "engine-a" }));
    await store.runs.create(pending(owner, "u"));
    assert.equal(await store.runs.claimNext("engine-b", u), null, "a run created running");
  });

  test("unclaim gives a claimed pending run back to the queue; only its claimer can", TIMEOUT, async () => {
    const store = current();
    const owner = ownerOf("queue-unclaim");
    const t = { owner, threadId: "t" };
    const run = await store.runs.create(pending(owner, "t"));
    assert.equal((await store.runs.claimNext("engine-a", t))?.runId, run.runId);
    assert.equal(await store.runs.unclaim(run.runId, "engine-b"), false, "not its claimer");
    assert.equal((await store.runs.get(owner, run.runId))?.engineId, "engine-a");

    const woken = nextSignal(store, RUNS_ANY);
    assert.equal(await store.runs.unclaim(run.runId, "engine-a"), true);
    await woken;
    assert.equal((await store.runs.get(owner, run.runId))?.engineId, null);
    assert.equal(await store.runs.unclaim(run.runId, "engine-a"), false, "no longer claimed");

    assert.equal((await store.runs.claimNext("engine-b", t))?.engineId, "engine-b");
    await store.runs.update(run.runId, { status: "running" });
    assert.equal(await store.runs.unclaim(run.runId, "engine-b"), false, "a running run stays with its engine");
    assert.equal((await store.runs.get(owner, run.runId))?.engineId, "engine-b");
    assert.equal(await store.runs.unclaim(randomUUID(), "engine-b"), false);
  });

  test("claimNext without a thread: the oldest claimable run anywhere, never a stateless one", TIMEOUT, async () => {
    const store = current();
    await drain(store);
    const owner = ownerOf("queue-any");
    await store.runs.create(pending(owner, null));
    const a = await store.runs.create(pending(owner, "a"));
    const a2 = await store.runs.create(pending(owner, "a"));
    const b = await store.runs.create(pending(owner, "b"));
    assert.equal((await store.runs.claimNext("engine-a"))?.runId, a.runId);
    assert.equal((await store.runs.claimNext("engine-a"))?.runId, b.runId, "a's next run waits for a's first");
    assert.equal(await store.runs.claimNext("engine-a"), null, "a stateless run is not queued");
    await store.runs.update(a.runId, { status: "error" });
    assert.equal((await store.runs.claimNext("engine-b"))?.runId, a2.runId);
  });

  test(
    "many claimers on two store instances: each run once, one run per thread at a time, in order",
    TIMEOUT,
    async () => {
      const first = current();
      await drain(first);
      const second = await open();
      try {
        const owner = ownerOf("queue-race");
        const THREADS = 8;
        const RUNS_PER_THREAD = 6;
        const order = new Map<string, string[]>();
        for (let i = 0; i < RUNS_PER_THREAD; i++)
          for (let t = 0; t < THREADS; t++) {
            const run = await first.runs.create(pending(owner, `t${t}`));
            order.set(run.threadId as string, [...(order.get(run.threadId as string) ?? []), run.runId]);
          }
        const total = THREADS * RUNS_PER_THREAD;

        const claimedBy = new Map<string, string>();
        const started = new Map<string, string[]>();
        const active = new Set<string>();
        // A claim becomes possible only when a run ends: a claimer that found nothing waits for the
        // next ending (or retries at once if one happened while it asked).
        let endings = 0;
        let wake: (() => void)[] = [];
        const ended = (): void => {
          endings++;
          for (const resolve of wake) resolve();
          wake = [];
        };

        const claimer = async (store: Store, engineId: string): Promise<void> => {
          while (claimedBy.size < total) {
            const seen = endings;
            const run: RunRecord | null = await store.runs.claimNext(engineId);
            if (run === null) {
              if (seen === endings && claimedBy.size < total) await new Promise<void>((resolve) => wake.push(resolve));
              continue;
            }
            const threadId = run.threadId as string;
            assert.equal(run.owner, owner, "only this test's runs are queued");
            assert.equal(run.engineId, engineId);
            assert.ok(!claimedBy.has(run.runId), `run ${run.runId} claimed twice`);
            claimedBy.set(run.runId, engineId);
            assert.ok(!active.has(threadId), `two runs of ${threadId} at once`);
            active.add(threadId);
            started.set(threadId, [...(started.get(threadId) ?? []), run.runId]);
            await store.runs.update(run.runId, { status: "running", executionId: randomUUID() });
            for (let i = Math.floor(Math.random() * 4); i > 0; i--) await tick();
            active.delete(threadId);
            await store.runs.update(run.runId, { status: "success" });
            ended();
          }
          ended(); // Lets the other claimers see that everything is claimed.
        };
        await Promise.all([
          ...Array.from({ length: 4 }, () => claimer(first, "engine-first")),
          ...Array.from({ length: 4 }, () => claimer(second, "engine-second")),
        ]);

        assert.equal(claimedBy.size, total);
        assert.deepEqual(started, order, "each thread's runs started in the order they were created");
        const engines = new Set(claimedBy.values());
        assert.equal(engines.size, 2, "both store instances claimed runs");
      } finally {
        await second.close();
      }
    },
  );

  test("claimers racing for one thread: exactly one wins", TIMEOUT, async () => {
    const first = current();
    const second = await open();
    try {
      const owner = ownerOf("queue-one-thread");
      const t = { owner, threadId: "t" };
      for (let i = 0; i < 3; i++) await first.runs.create(pending(owner, "t"));
      const claims = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? first : second).runs.claimNext(`engine-${i}`, t)),
      );
      assert.equal(claims.filter((claim) => claim !== null).length, 1);
    } finally {
      await second.close();
    }
  });

  test("recoverFromDeadEngines fails dead engines' running runs and requeues their claims", TIMEOUT, async () => {
    const store = current();
    const owner = ownerOf("queue-recover");
    const live = `live-${randomUUID()}`;
    const left = `left-${randomUUID()}`;
    const dead = `dead-${randomUUID()}`; // never had a lease
    await store.cluster.heartbeat({ engineId: live, address: "test:1" }, 60_000);
    await store.cluster.heartbeat({ engineId: left, address: "test:2" }, 60_000);
    await store.cluster.leave(left);
    try {
      const make = (threadId: string, extra: Partial<NewRun>): Promise<RunRecord> =>
        store.runs.create(pending(owner, threadId, extra));
      const runningDead = await make("t1", { status: "running", engineId: dead });
      const runningLeft = await make("t2", { status: "running", engineId: left });
      const runningNobody = await make("t3", { status: "running" });
      const runningLive = await make("t4", { status: "running", engineId: live });
      const pendingDead = await make("t5", { engineId: dead });
      const pendingLeft = await make("t6", { engineId: left });
      const pendingLive = await make("t7", { engineId: live });
      const endedDead = await make("t8", { status: "success", engineId: dead });

      const woken = nextSignal(store, RUNS_ANY);
      const { failed, requeued } = await store.runs.recoverFromDeadEngines();
      await woken;
      for (const run of [runningDead, runningLeft, runningNobody]) {
        assert.ok(failed.includes(run.runId), `${run.threadId}: failed`);
        assert.equal((await store.runs.get(owner, run.runId))?.status, "error");
      }
      for (const run of [pendingDead, pendingLeft]) {
        assert.ok(requeued.includes(run.runId), `${run.threadId}: requeued`);
        const now = await store.runs.get(owner, run.runId);
        assert.equal(now?.status, "pending");
        assert.equal(now?.engineId, null);
      }
      for (const run of [runningLive, pendingLive, endedDead]) {
        assert.ok(!failed.includes(run.runId) && !requeued.includes(run.runId), `${run.threadId}: untouched`);
        assert.deepEqual(await store.runs.get(owner, run.runId), run);
      }
      assert.equal((await store.runs.claimNext(live, { owner, threadId: "t5" }))?.runId, pendingDead.runId);

      const again = await store.runs.recoverFromDeadEngines();
      const ours = new Set([runningDead, runningLeft, runningNobody, pendingDead, pendingLeft].map((r) => r.runId));
      assert.deepEqual(
        [...again.failed, ...again.requeued].filter((id) => ours.has(id)),
        [],
        "each is recovered once",
      );
    } finally {
      await store.cluster.leave(live);
    }
  });

  test("two engines recovering at once report each run once", TIMEOUT, async () => {
    const first = current();
    const second = await open();
    try {
      const owner = ownerOf("queue-recover-race");
      const dead = `dead-${randomUUID()}`;
      const running: string[] = [];
      const claimed: string[] = [];
      for (let i = 0; i < 20; i++) {
        running.push((await first.runs.create(pending(owner, `r${i}`, { status: "running", engineId: dead }))).runId);
        claimed.push((await first.runs.create(pending(owner, `p${i}`, { engineId: dead }))).runId);
      }
      const [a, b] = await Promise.all([first.runs.recoverFromDeadEngines(), second.runs.recoverFromDeadEngines()]);
      const mine = (ids: string[], of: string[]): string[] => ids.filter((id) => of.includes(id));
      const failed = [...mine(a.failed, running), ...mine(b.failed, running)];
      const requeued = [...mine(a.requeued, claimed), ...mine(b.requeued, claimed)];
      assert.deepEqual(failed.sort(), [...running].sort(), "every running run failed, once");
      assert.deepEqual(requeued.sort(), [...claimed].sort(), "every claim requeued, once");
    } finally {
      await second.close();
    }
  });
}
