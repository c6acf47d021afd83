/**
 * What only PostgreSQL needs of the Agent API records (graphs, assistants, runs, LangGraph's
 * long-term memory items), against a throwaway PostgreSQL; the conformance cases SQLite passes run
 * on PostgreSQL in store-postgres.test.ts.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import type { Store } from "../src/store/index.ts";
import { openPostgresStore } from "../src/store/postgres/store.ts";
import { startPostgres, type TestPostgres } from "./support/postgres.ts";

describe("postgres store: Agent API records", () => {
  let cluster: TestPostgres;
  let url: string;
  let store: Store;
  const opened: Store[] = [];
  const open = async (): Promise<Store> => {
    const s = await openPostgresStore({ url });
    opened.push(s);
    return s;
  };

  before(async () => {
    cluster = await startPostgres();
    url = await cluster.createDatabase();
    store = await open();
  });
  after(async () => {
    for (const s of opened) await s.close();
    await cluster?.stop();
  });

  describe("what only PostgreSQL needs", () => {
    const refused = async (promise: Promise<unknown>): Promise<void> => {
      await assert.rejects(promise, (err: unknown) => {
        assert.equal((err as { code?: unknown }).code, "GBX_STORE_INVALID_ARGUMENT");
        return true;
      });
    };

    test("text or JSON PostgreSQL cannot hold (U+0000, a lone surrogate) is refused, nothing written", async () => {
      const owner = `pg-unholdable-${randomUUID()}`;
      const run = {
        owner,
        runId: randomUUID(),
        threadId: "t",
        assistantId: "agent",
        status: "pending",
        metadata: {},
        multitaskStrategy: "enqueue",
        kwargs: { input: { text: "a\u0000b" } },
      } as const;
      await refused(store.runs.create(run));
      await refused(store.runs.create({ ...run, metadata: { ["k\u0000"]: 1 } }));
      await refused(store.runs.create({ ...run, kwargs: { text: "\ud800" } }));
      assert.equal(await store.runs.get(owner, run.runId), null);
      await refused(store.items.put(owner, { namespace: ["n"], key: "k", value: { text: "\u0000" } }));
      await refused(store.items.put(owner, { namespace: ["n"], key: "k\u0000", value: {} }));
      const graph = { owner, graphId: "g", language: "python", files: {}, graph: null, description: {} } as const;
      await refused(store.graphs.put({ ...graph, code: "x = '\u0000'" }));
      await refused(store.graphs.put({ ...graph, code: "x = 1", files: { "a.py": "\udfff" } }));
      assert.equal(await store.graphs.count(owner), 0);

      // The text of an escape (a backslash, then u0000) is no NUL, and a surrogate pair is a character.
      const kept = { text: "\\u0000 and \\\\u0000 and 😀" };
      await store.items.put(owner, { namespace: ["n"], key: "k", value: kept });
      assert.deepEqual((await store.items.get(owner, ["n"], "k"))?.value, kept);
      assert.equal((await store.runs.create({ ...run, kwargs: kept })).kwargs.text, kept.text);
    });

    test("a filtered item search reads past its first batch, in order, paged after filtering", async () => {
      const owner = `pg-scan-${randomUUID()}`;
      const keys: string[] = [];
      for (let i = 0; i < 450; i++) {
        await store.items.put(owner, { namespace: ["docs"], key: `k${i}`, value: { even: i % 2 === 0, i } });
        keys.push(`k${i}`);
      }
      const newestFirst = keys.reverse();
      const even = newestFirst.filter((key) => Number(key.slice(1)) % 2 === 0);
      const found = async (filter: Record<string, unknown>, page: { limit: number; offset: number }) =>
        (await store.items.search(owner, { namespacePrefix: ["docs"], filter, ...page })).map((item) => item.key);
      assert.deepEqual(await found({ even: true }, { limit: 30, offset: 190 }), even.slice(190, 220));
      assert.deepEqual(await found({ i: { $lt: 3 } }, { limit: 10, offset: 0 }), ["k2", "k1", "k0"]);
      assert.deepEqual(await found({ even: true, i: { $gte: 440 } }, { limit: 10, offset: 1 }), [
        "k446",
        "k444",
        "k442",
        "k440",
      ]);
    });

    test("two store instances adding an owner's items at once stop at maxItems together", async () => {
      const second = await open();
      const owner = `pg-max-items-${randomUUID()}`;
      const limits = { maxItems: 10 };
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, (_, i) =>
          (i % 2 === 0 ? store : second).items.put(owner, { namespace: ["n"], key: `k${i}`, value: { i } }, limits),
        ),
      );
      const written = results.filter((result) => result.status === "fulfilled").length;
      assert.equal(written, 10);
      for (const result of results)
        if (result.status === "rejected")
          assert.equal((result.reason as { code?: unknown }).code, "GBX_STORE_QUOTA_EXCEEDED");
      assert.equal((await store.items.search(owner, { namespacePrefix: [], limit: 100 })).length, 10);
    });
  });
});
