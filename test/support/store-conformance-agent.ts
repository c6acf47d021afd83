/**
 * The conformance cases of the Agent Server API's records: threads' metadata and search, graphs,
 * assistants and runs. Part of `storeConformanceSuite` (store-conformance.ts calls this inside
 * its describe), so every backend passes them; same rules: owners and ids of each test's own.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import type {
  AssistantRecord,
  AssistantSearch,
  NewAssistant,
  NewGraph,
  NewRun,
  RunRecord,
  Store,
  ThreadRecord,
} from "../../src/store/index.ts";

const TIMEOUT = { timeout: 20_000 };

const owners = (prefix: string): { owner: string; other: string } => ({
  owner: `${prefix}-owner-${randomUUID()}`,
  other: `${prefix}-other-${randomUUID()}`,
});

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, code);
    return true;
  });
}

const threadIds = (threads: ThreadRecord[]): string[] => threads.map((t) => t.threadId);
const assistantIds = (assistants: AssistantRecord[]): string[] => assistants.map((a) => a.assistantId);
const runIds = (runs: RunRecord[]): string[] => runs.map((r) => r.runId);

/** Distinct creation times, so that created_at orders are not ties. */
const tick = (): Promise<void> => sleep(3);

export interface AgentRecordCasesOptions {
  /** The suite's store. */
  store: () => Store;
  /** Opens another Store on the same data (closed by the suite). */
  open: () => Promise<Store>;
}

export function agentRecordCases({ store: getStore, open }: AgentRecordCasesOptions): void {
  // ------------------------------------------------------------------------------ threads (Agent API)

  describe("threads: metadata, runtime and search", () => {
    test("a thread made without a runtime takes its first run's, then keeps it", TIMEOUT, async () => {
      const store = getStore();
      const ref = { owner: owners("no-runtime").owner, threadId: randomUUID() };
      const made = await store.threads.ensure({ ...ref, runtime: null });
      assert.equal(made.created, true);
      assert.equal(made.thread.runtime, null);
      assert.deepEqual(made.thread.metadata, {});
      assert.equal(made.thread.status, "idle");
      const run = await store.threads.ensure({ ...ref, runtime: "js" });
      assert.equal(run.created, false);
      assert.equal(run.thread.runtime, "js");
      assert.equal((await store.threads.ensure({ ...ref, runtime: "python" })).thread.runtime, "js");
      assert.equal((await store.threads.ensure({ ...ref, runtime: null })).thread.runtime, "js");
      assert.equal((await store.threads.get(ref))?.runtime, "js");
    });

    test("ensure keeps the given metadata; updateMetadata merges it shallowly, per owner", TIMEOUT, async () => {
      const store = getStore();
      const { owner, other } = owners("metadata");
      const threadId = randomUUID();
      const ref = { owner, threadId };
      const metadata = { graph_id: "agent", nested: { a: 1, b: [1, 2] }, "odd ✓ key": null };
      const { thread } = await store.threads.ensure({ ...ref, runtime: null, metadata, status: "busy" });
      assert.deepEqual(thread.metadata, metadata);
      assert.equal(thread.status, "busy");
      await store.threads.ensure({ ...ref, runtime: null, metadata: { ignored: true } });
      assert.deepEqual((await store.threads.get(ref))?.metadata, metadata, "an existing thread keeps its metadata");

      await tick();
      const updated = await store.threads.updateMetadata(ref, { nested: { c: 3 }, assistant_id: "a-1" });
      assert.ok(updated);
      assert.deepEqual(updated.metadata, {
        graph_id: "agent",
        nested: { c: 3 },
        "odd ✓ key": null,
        assistant_id: "a-1",
      });
      assert.ok(updated.updatedAt > thread.updatedAt, "updatedAt is touched");
      assert.equal(updated.createdAt, thread.createdAt);
      assert.deepEqual(await store.threads.get(ref), updated);

      assert.equal(await store.threads.updateMetadata({ owner: other, threadId }, { x: 1 }), null);
      assert.equal(await store.threads.updateMetadata({ owner, threadId: randomUUID() }, { x: 1 }), null);
      assert.deepEqual((await store.threads.get(ref))?.metadata, updated.metadata, "another owner changed nothing");
      await rejectsWithCode(
        store.threads.updateMetadata(ref, [1] as unknown as Record<string, unknown>),
        "GBX_STORE_INVALID_ARGUMENT",
      );
      await rejectsWithCode(
        store.threads.ensure({
          owner,
          threadId: randomUUID(),
          runtime: null,
          metadata: "x" as unknown as Record<string, unknown>,
        }),
        "GBX_STORE_INVALID_ARGUMENT",
      );
    });

    test("search by metadata: each key's value deep-equal, of the same JSON type", TIMEOUT, async () => {
      const store = getStore();
      const { owner } = owners("search-metadata");
      const make = async (name: string, metadata: Record<string, unknown>): Promise<void> => {
        await store.threads.ensure({ owner, threadId: name, runtime: null, metadata });
      };
      await make("a", { graph_id: "g1", n: 1, flag: true, none: null, deep: { x: [1, { y: "z" }], w: 2 } });
      await make("b", { graph_id: "g1", n: "1", flag: false, deep: { w: 2, x: [1, { y: "z" }], extra: 0 } });
      await make("c", { graph_id: "g2", n: 1.5, deep: { x: [{ y: "z" }, 1], w: 2 } });
      const found = async (metadata: Record<string, unknown>): Promise<string[]> =>
        threadIds(await store.threads.search(owner, { metadata, sortBy: "thread_id", sortOrder: "asc" }));

      assert.deepEqual(await found({}), ["a", "b", "c"]);
      assert.deepEqual(await found({ graph_id: "g1" }), ["a", "b"]);
      assert.deepEqual(await found({ graph_id: "g1", flag: false }), ["b"]);
      assert.deepEqual(await found({ n: 1 }), ["a"], "the number 1 is not the string 1");
      assert.deepEqual(await found({ n: "1" }), ["b"]);
      assert.deepEqual(await found({ n: 1.5 }), ["c"]);
      assert.deepEqual(await found({ flag: true }), ["a"]);
      assert.deepEqual(await found({ flag: 1 }), [], "1 is not true");
      assert.deepEqual(await found({ none: null }), ["a"]);
      assert.deepEqual(await found({ missing: null }), [], "a null value needs the key");
      // Nested: equal whatever the key order, not merely contained, and arrays in their order.
      assert.deepEqual(await found({ deep: { w: 2, x: [1, { y: "z" }] } }), ["a"]);
      assert.deepEqual(await found({ deep: { x: [1, { y: "z" }] } }), []);
      assert.deepEqual(await found({ deep: { x: [{ y: "z" }, 1], w: 2 } }), ["c"]);
      assert.deepEqual(await found({ graph_id: "g3" }), []);
      assert.equal(await store.threads.count(owner, { metadata: { graph_id: "g1" } }), 2);
      assert.equal(await store.threads.count(owner, { metadata: { deep: { w: 2, x: [1, { y: "z" }] } } }), 1);
      assert.equal(await store.threads.count(owner), 3);
    });

    test("search by status and ids; count agrees; another owner's threads are never found", TIMEOUT, async () => {
      const store = getStore();
      const { owner, other } = owners("search-status");
      for (const [threadId, status] of [
        ["t1", "idle"],
        ["t2", "busy"],
        ["t3", "interrupted"],
        ["t4", "error"],
        ["t5", "idle"],
      ] as const)
        await store.threads.ensure({ owner, threadId, runtime: "python", status, metadata: { k: "v" } });
      await store.threads.ensure({ owner: other, threadId: "t1", runtime: "js", metadata: { k: "v" } });
      const asc = { sortBy: "thread_id", sortOrder: "asc" } as const;

      assert.deepEqual(threadIds(await store.threads.search(owner, { status: "idle", ...asc })), ["t1", "t5"]);
      assert.equal(await store.threads.count(owner, { status: "idle" }), 2);
      assert.deepEqual(threadIds(await store.threads.search(owner, { ids: ["t4", "t2", "nope"], ...asc })), [
        "t2",
        "t4",
      ]);
      assert.deepEqual(threadIds(await store.threads.search(owner, { ids: ["t4", "t2"], status: "busy" })), ["t2"]);
      assert.equal((await store.threads.search(owner, { ids: [] })).length, 5, "no ids: no filter");
      assert.equal(await store.threads.count(owner, { ids: ["t1", "t3"] }), 2);

      const theirs = await store.threads.search(other, { metadata: { k: "v" } });
      assert.deepEqual(
        theirs.map((t) => [t.owner, t.threadId, t.runtime]),
        [[other, "t1", "js"]],
      );
      assert.equal(await store.threads.count(other), 1);
      assert.deepEqual(await store.threads.search(`nobody-${randomUUID()}`), []);
      assert.equal(await store.threads.count(`nobody-${randomUUID()}`), 0);
    });

    test("search sorts by each key both ways, newest first by default, and pages", TIMEOUT, async () => {
      const store = getStore();
      const { owner } = owners("search-sort");
      // Created c, a, b (in that order); then a is updated last.
      const statuses = { c: "idle", a: "interrupted", b: "busy" } as const;
      for (const threadId of ["c", "a", "b"] as const) {
        await store.threads.ensure({ owner, threadId, runtime: null, status: statuses[threadId] });
        await tick();
      }
      await store.threads.updateMetadata({ owner, threadId: "a" }, { touched: true });
      const order = async (sortBy?: "thread_id" | "status" | "created_at" | "updated_at", sortOrder?: "asc" | "desc") =>
        threadIds(await store.threads.search(owner, { sortBy, sortOrder }));

      assert.deepEqual(await order(), ["b", "a", "c"], "created_at, newest first");
      assert.deepEqual(await order("created_at", "asc"), ["c", "a", "b"]);
      assert.deepEqual(await order("updated_at"), ["a", "b", "c"]);
      assert.deepEqual(await order("updated_at", "asc"), ["c", "b", "a"]);
      assert.deepEqual(await order("thread_id", "asc"), ["a", "b", "c"]);
      assert.deepEqual(await order("thread_id"), ["c", "b", "a"]);
      assert.deepEqual(await order("status", "asc"), ["b", "c", "a"], "busy, idle, interrupted");
      assert.deepEqual(await order("status", "desc"), ["a", "c", "b"]);

      const page = async (limit: number, offset: number) =>
        threadIds(await store.threads.search(owner, { sortBy: "thread_id", sortOrder: "asc", limit, offset }));
      assert.deepEqual(await page(2, 0), ["a", "b"]);
      assert.deepEqual(await page(2, 2), ["c"]);
      assert.deepEqual(await page(2, 3), []);
      assert.equal(await store.threads.count(owner), 3, "count ignores paging");
    });

    test("search returns 10 by default; bad limits, offsets, sorts and filters are refused", TIMEOUT, async () => {
      const store = getStore();
      const { owner } = owners("search-limit");
      for (let i = 0; i < 12; i++) await store.threads.ensure({ owner, threadId: `t${i}`, runtime: null });
      assert.equal((await store.threads.search(owner)).length, 10);
      assert.equal((await store.threads.search(owner, { limit: 5000 })).length, 12, "over 1000 is 1000");
      assert.equal(await store.threads.count(owner), 12);
      const invalid = "GBX_STORE_INVALID_ARGUMENT";
      await rejectsWithCode(store.threads.search(owner, { limit: 0 }), invalid);
      await rejectsWithCode(store.threads.search(owner, { offset: -1 }), invalid);
      await rejectsWithCode(store.threads.search(owner, { sortBy: "owner" as "status" }), invalid);
      await rejectsWithCode(store.threads.search(owner, { sortOrder: "sideways" as "asc" }), invalid);
      await rejectsWithCode(store.threads.search(owner, { status: "gone" as "idle" }), invalid);
      await rejectsWithCode(
        store.threads.search(owner, { metadata: [] as unknown as Record<string, unknown> }),
        invalid,
      );
      await rejectsWithCode(store.threads.count(owner, { ids: "t1" as unknown as string[] }), invalid);
      const wide = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i]));
      await rejectsWithCode(store.threads.search(owner, { metadata: wide }), invalid);
    });

    test("the head keeps the thread state the run computed, or says it is not known", TIMEOUT, async () => {
      const store = getStore();
      const ref = { owner: owners("thread-state").owner, threadId: randomUUID() };
      await store.threads.ensure({ ...ref, runtime: "python" });
      const threadState = { values: { n: 1 }, next: ["human"], tasks: [{ id: "t", interrupts: [{ value: "?" }] }] };
      const head = { checkpointId: "c1", next: ["human"], interrupts: [{ value: "?" }], threadState };
      assert.equal(await store.threads.setStatus(ref, "interrupted", head), true);
      assert.deepEqual(await store.threads.getHead(ref), head);
      assert.equal(await store.threads.setStatus(ref, "idle", { ...head, threadState: null }), true);
      assert.deepEqual(await store.threads.getHead(ref), { ...head, threadState: null });
      await rejectsWithCode(
        store.threads.setStatus(ref, "idle", { ...head, threadState: [1] as unknown as Record<string, unknown> }),
        "GBX_STORE_INVALID_ARGUMENT",
      );
    });
  });

  // ------------------------------------------------------------------------------ graphs

  const graph = (owner: string, graphId: string, code = "graph = build()"): NewGraph => ({
    owner,
    graphId,
    language: "python",
    code,
    files: { "helpers/util.py": "X = 1" },
    graph: null,
    description: { nodes: ["a"], edges: [] },
  });

  describe("graphs", () => {
    test("put registers at version 1 and replaces with version + 1, keeping createdAt", TIMEOUT, async () => {
      const store = getStore();
      const { owner } = owners("graph-put");
      const first = await store.graphs.put(graph(owner, "agent"));
      assert.deepEqual(
        { ...first, createdAt: 0, updatedAt: 0 },
        { ...graph(owner, "agent"), version: 1, createdAt: 0, updatedAt: 0 },
      );
      assert.ok(first.createdAt > 0 && first.updatedAt === first.createdAt);
      assert.deepEqual(await store.graphs.get(owner, "agent"), first);

      await tick();
      const replaced = await store.graphs.put({
        ...graph(owner, "agent", "graph = other()"),
        language: "typescript",
        files: {},
        graph: "app",
        description: { nodes: ["b"] },
      });
      assert.equal(replaced.version, 2);
      assert.equal(replaced.code, "graph = other()");
      assert.equal(replaced.language, "typescript");
      assert.equal(replaced.graph, "app");
      assert.deepEqual(replaced.files, {});
      assert.deepEqual(replaced.description, { nodes: ["b"] });
      assert.equal(replaced.createdAt, first.createdAt);
      assert.ok(replaced.updatedAt > first.updatedAt);
      assert.equal((await store.graphs.put(graph(owner, "agent"))).version, 3);
    });

    test("graphs are per owner: another owner's id is another graph", TIMEOUT, async () => {
      const store = getStore();
      const { owner, other } = owners("graph-owners");
      await store.graphs.put(graph(owner, "agent", "mine"));
      assert.equal(await store.graphs.get(other, "agent"), null);
      assert.deepEqual(await store.graphs.list(other), []);
      assert.equal(await store.graphs.delete(other, "agent"), false);
      const theirs = await store.graphs.put(graph(other, "agent", "theirs"));
      assert.equal(theirs.version, 1, "another owner's put does not replace mine");
      assert.equal((await store.graphs.get(owner, "agent"))?.code, "mine");
      assert.equal((await store.graphs.get(owner, "agent"))?.version, 1);
    });

    test("list: by graph_id, 10 by default, with offset; delete", TIMEOUT, async () => {
      const store = getStore();
      const { owner } = owners("graph-list");
      const names = Array.from({ length: 12 }, (_, i) => `g${String(i).padStart(2, "0")}`);
      for (const name of [...names].reverse()) await store.graphs.put(graph(owner, name));
      assert.deepEqual(
        (await store.graphs.list(owner)).map((g) => g.graphId),
        names.slice(0, 10),
      );
      assert.deepEqual(
        (await store.graphs.list(owner, { limit: 5, offset: 10 })).map((g) => g.graphId),
        names.slice(10),
      );
      assert.equal(await store.graphs.delete(owner, "g03"), true);
      assert.equal(await store.graphs.delete(owner, "g03"), false);
      assert.equal(await store.graphs.get(owner, "g03"), null);
      assert.equal((await store.graphs.list(owner, { limit: 100 })).length, 11);
      assert.equal(await store.graphs.count(owner), 11);
      assert.equal(await store.graphs.count(owners("graph-count").other), 0, "per owner");
    });

    test("deleting a graph deletes its assistants, and no one else's", TIMEOUT, async () => {
      const store = getStore();
      const { owner, other } = owners("graph-delete");
      for (const who of [owner, other]) {
        await store.graphs.put(graph(who, "doomed"));
        await store.graphs.put(graph(who, "kept"));
        await store.assistants.create(assistant(who, "a-doomed", "doomed"));
        await store.assistants.create(assistant(who, "a-kept", "kept"));
      }
      assert.equal(await store.graphs.delete(owner, "doomed"), true);
      assert.equal(await store.assistants.get(owner, "a-doomed"), null);
      assert.ok(await store.assistants.get(owner, "a-kept"));
      assert.ok(await store.assistants.get(other, "a-doomed"), "another owner's graph of that id stays");
      assert.ok(await store.graphs.get(other, "doomed"));
    });

    test("a graph that is not what the store holds is refused", TIMEOUT, async () => {
      const store = getStore();
      const { owner } = owners("graph-invalid");
      const invalid = "GBX_STORE_INVALID_ARGUMENT";
      await rejectsWithCode(store.graphs.put({ ...graph(owner, "g"), language: "cobol" as "python" }), invalid);
      await rejectsWithCode(
        store.graphs.put({ ...graph(owner, "g"), files: { "a.py": 1 } as unknown as Record<string, string> }),
        invalid,
      );
      await rejectsWithCode(
        store.graphs.put({ ...graph(owner, "g"), description: [] as unknown as Record<string, unknown> }),
        invalid,
      );
      await rejectsWithCode(store.graphs.put({ ...graph(owner, "g"), code: null as unknown as string }), invalid);
      await rejectsWithCode(store.graphs.list(owner, { limit: 0 }), invalid);
      assert.equal(await store.graphs.get(owner, "g"), null, "nothing was written");
    });
  });

  // ------------------------------------------------------------------------------ assistants

  function assistant(owner: string, assistantId: string, graphId = "agent"): NewAssistant {
    return {
      owner,
      assistantId,
      graphId,
      name: assistantId,
      description: null,
      config: { configurable: { model: "m" } },
      context: { user: "u" },
      metadata: { created_by: "system" },
    };
  }

  describe("assistants", () => {
    test("create once: a second create of the id answers null and changes nothing", TIMEOUT, async () => {
      const store = getStore();
      const { owner, other } = owners("assistant-create");
      const given = { ...assistant(owner, "a1"), description: "helps", metadata: { deep: { x: [1] } } };
      const created = await store.assistants.create(given);
      assert.ok(created);
      assert.deepEqual(
        { ...created, createdAt: 0, updatedAt: 0 },
        { ...given, version: 1, createdAt: 0, updatedAt: 0 },
      );
      assert.ok(created.createdAt > 0 && created.updatedAt === created.createdAt);
      assert.equal(await store.assistants.create({ ...given, name: "again" }), null);
      assert.deepEqual(await store.assistants.get(owner, "a1"), created);
      assert.equal(await store.assistants.get(other, "a1"), null);
      const theirs = await store.assistants.create(assistant(other, "a1"));
      assert.equal(theirs?.owner, other, "another owner may use the same id");
      assert.deepEqual(await store.assistants.get(owner, "a1"), created);
    });

    test("update replaces the given fields, merges metadata, bumps the version; per owner", TIMEOUT, async () => {
      const store = getStore();
      const { owner, other } = owners("assistant-update");
      const created = await store.assistants.create({ ...assistant(owner, "a1"), metadata: { a: 1, b: { c: 2 } } });
      assert.ok(created);
      await tick();
      const updated = await store.assistants.update(owner, "a1", {
        config: { recursion_limit: 5 },
        metadata: { b: { d: 3 }, e: null },
        description: "now described",
      });
      assert.ok(updated);
      assert.equal(updated.version, 2);
      assert.deepEqual(updated.config, { recursion_limit: 5 });
      assert.deepEqual(updated.context, created.context, "a field not given stays");
      assert.equal(updated.name, created.name);
      assert.equal(updated.graphId, created.graphId);
      assert.equal(updated.description, "now described");
      assert.deepEqual(updated.metadata, { a: 1, b: { d: 3 }, e: null });
      assert.equal(updated.createdAt, created.createdAt);
      assert.ok(updated.updatedAt > created.updatedAt);
      assert.deepEqual(await store.assistants.get(owner, "a1"), updated);

      const renamed = await store.assistants.update(owner, "a1", {
        name: "renamed",
        graphId: "other",
        description: null,
      });
      assert.equal(renamed?.version, 3);
      assert.equal(renamed?.name, "renamed");
      assert.equal(renamed?.graphId, "other");
      assert.equal(renamed?.description, null);

      assert.equal(await store.assistants.update(other, "a1", { name: "stolen" }), null);
      assert.equal(await store.assistants.update(owner, "absent", { name: "x" }), null);
      assert.equal((await store.assistants.get(owner, "a1"))?.name, "renamed");
      await rejectsWithCode(
        store.assistants.update(owner, "a1", { config: "x" as unknown as Record<string, unknown> }),
        "GBX_STORE_INVALID_ARGUMENT",
      );
      assert.equal((await store.assistants.get(owner, "a1"))?.version, 3, "a refused update wrote nothing");
    });

    test("delete: the owner's only", TIMEOUT, async () => {
      const store = getStore();
      const { owner, other } = owners("assistant-delete");
      await store.assistants.create(assistant(owner, "a1"));
      assert.equal(await store.assistants.delete(other, "a1"), false);
      assert.ok(await store.assistants.get(owner, "a1"));
      assert.equal(await store.assistants.delete(owner, "a1"), true);
      assert.equal(await store.assistants.delete(owner, "a1"), false);
      assert.equal(await store.assistants.get(owner, "a1"), null);
    });

    test("search by graph, name and metadata; sort; page; count", TIMEOUT, async () => {
      const store = getStore();
      const { owner, other } = owners("assistant-search");
      const made: [string, string, string, Record<string, unknown>][] = [
        ["a1", "g1", "Support Bot", { team: "x", tags: ["a", "b"] }],
        ["a2", "g1", "Sales helper", { team: "y" }],
        ["a3", "g2", "Research BOT", { team: "x", tags: ["b", "a"] }],
      ];
      for (const [id, graphId, name, metadata] of made) {
        await store.assistants.create({ ...assistant(owner, id, graphId), name, metadata });
        await tick();
      }
      await store.assistants.create({ ...assistant(other, "a4", "g1"), metadata: { team: "x" } });
      await store.assistants.update(owner, "a1", { config: {} });

      const found = async (search: AssistantSearch): Promise<string[]> =>
        assistantIds(await store.assistants.search(owner, search));
      assert.deepEqual(await found({}), ["a3", "a2", "a1"], "newest first");
      assert.deepEqual(await found({ sortBy: "created_at", sortOrder: "asc" }), ["a1", "a2", "a3"]);
      assert.deepEqual(await found({ sortBy: "updated_at" }), ["a1", "a3", "a2"]);
      assert.deepEqual(await found({ sortBy: "name", sortOrder: "asc" }), ["a3", "a2", "a1"]);
      assert.deepEqual(await found({ sortBy: "assistant_id", sortOrder: "asc" }), ["a1", "a2", "a3"]);
      assert.deepEqual(await found({ sortBy: "graph_id", sortOrder: "desc" }), ["a3", "a2", "a1"]);
      assert.deepEqual(await found({ graphId: "g1" }), ["a2", "a1"]);
      assert.deepEqual(await found({ name: "bot" }), ["a3", "a1"], "a part of the name, whatever the case");
      assert.deepEqual(await found({ metadata: { team: "x" } }), ["a3", "a1"]);
      assert.deepEqual(await found({ metadata: { tags: ["a", "b"] } }), ["a1"]);
      assert.deepEqual(await found({ graphId: "g1", metadata: { team: "x" } }), ["a1"]);
      assert.deepEqual(await found({ limit: 1, offset: 1 }), ["a2"]);
      assert.equal(await store.assistants.count(owner), 3);
      assert.equal(await store.assistants.count(owner, { graphId: "g1" }), 2);
      assert.equal(await store.assistants.count(owner, { name: "BOT", metadata: { team: "x" } }), 2);
      assert.deepEqual(assistantIds(await store.assistants.search(other)), ["a4"]);
      assert.equal(await store.assistants.count(other), 1);
      await rejectsWithCode(
        store.assistants.search(owner, { sortBy: "owner" as "name" }),
        "GBX_STORE_INVALID_ARGUMENT",
      );
    });
  });

  // ------------------------------------------------------------------------------ runs

  const run = (owner: string, threadId: string | null, status: NewRun["status"] = "pending"): NewRun => ({
    owner,
    runId: randomUUID(),
    threadId,
    assistantId: "agent",
    status,
    metadata: { source: "test" },
    multitaskStrategy: "enqueue",
    kwargs: { input: { messages: [] }, stream_mode: ["values"] },
  });

  describe("runs", () => {
    test("create, get, update the status and execution; another owner sees none of it", TIMEOUT, async () => {
      const store = getStore();
      const { owner, other } = owners("run-basics");
      const given = run(owner, "t1");
      const created = await store.runs.create(given);
      assert.deepEqual(
        { ...created, createdAt: 0, updatedAt: 0 },
        { ...given, executionId: null, engineId: null, startedFrom: null, createdAt: 0, updatedAt: 0 },
      );
      assert.ok(created.createdAt > 0);
      assert.deepEqual(await store.runs.get(owner, given.runId), created);
      assert.equal(await store.runs.get(other, given.runId), null);
      assert.equal(await store.runs.delete(other, given.runId), false);

      await tick();
      assert.equal(
        await store.runs.update(given.runId, { status: "running", executionId: "exec-1", startedFrom: "ckpt-1" }),
        true,
      );
      assert.equal(await store.runs.update(given.runId, { status: "success" }), true);
      const ended = await store.runs.get(owner, given.runId);
      assert.equal(ended?.status, "success");
      assert.equal(ended?.executionId, "exec-1", "a status change alone keeps the execution");
      assert.equal(ended?.startedFrom, "ckpt-1", "and where it started from");
      assert.ok((ended?.updatedAt ?? 0) > created.updatedAt);
      assert.equal(await store.runs.update(randomUUID(), { status: "error" }), false);

      const stateless = await store.runs.create({ ...run(owner, null, "running"), executionId: "exec-2" });
      assert.equal(stateless.threadId, null);
      assert.equal(stateless.executionId, "exec-2");
      await rejectsWithCode(store.runs.create(given), "GBX_STORE_INVALID_ARGUMENT");
      await rejectsWithCode(
        store.runs.create({ ...run(owner, "t1"), status: "done" as "success" }),
        "GBX_STORE_INVALID_ARGUMENT",
      );
      await rejectsWithCode(
        store.runs.create({ ...run(owner, "t1"), multitaskStrategy: "queue" as "enqueue" }),
        "GBX_STORE_INVALID_ARGUMENT",
      );
      await rejectsWithCode(
        store.runs.update(given.runId, { status: "done" as "success" }),
        "GBX_STORE_INVALID_ARGUMENT",
      );

      assert.equal(await store.runs.delete(owner, given.runId), true);
      assert.equal(await store.runs.get(owner, given.runId), null);
      assert.equal(await store.runs.delete(owner, given.runId), false);
    });

    test("list: the thread's runs, newest first, by status, 10 by default, paged", TIMEOUT, async () => {
      const store = getStore();
      const { owner, other } = owners("run-list");
      const made: RunRecord[] = [];
      // No pause between creates: order holds within one millisecond too.
      for (let i = 0; i < 12; i++)
        made.push(await store.runs.create(run(owner, "t", i % 3 === 0 ? "success" : "pending")));
      await store.runs.create(run(owner, "another-thread"));
      await store.runs.create(run(other, "t"));
      const newestFirst = runIds(made).reverse();

      assert.deepEqual(runIds(await store.runs.list(owner, "t")), newestFirst.slice(0, 10));
      assert.deepEqual(runIds(await store.runs.list(owner, "t", { limit: 5, offset: 10 })), newestFirst.slice(10));
      assert.deepEqual(
        runIds(await store.runs.list(owner, "t", { status: "success", limit: 100 })),
        runIds(made.filter((r) => r.status === "success")).reverse(),
      );
      assert.equal((await store.runs.list(other, "t")).length, 1);
      assert.deepEqual(await store.runs.list(owner, "no-such-thread"), []);
    });

    test("nextPending: the thread's oldest pending run, of that owner only", TIMEOUT, async () => {
      const store = getStore();
      const { owner, other } = owners("run-pending");
      assert.equal(await store.runs.nextPending(owner, "t"), null);
      const running = await store.runs.create(run(owner, "t", "running"));
      await store.runs.create(run(other, "t"));
      await store.runs.create(run(owner, "elsewhere"));
      assert.equal(await store.runs.nextPending(owner, "t"), null, "nothing pending on this thread of this owner");
      const first = await store.runs.create(run(owner, "t"));
      const second = await store.runs.create(run(owner, "t"));
      assert.equal((await store.runs.nextPending(owner, "t"))?.runId, first.runId);
      await store.runs.update(first.runId, { status: "running" });
      assert.equal((await store.runs.nextPending(owner, "t"))?.runId, second.runId);
      await store.runs.delete(owner, second.runId);
      assert.equal(await store.runs.nextPending(owner, "t"), null);
      assert.equal((await store.runs.get(owner, running.runId))?.status, "running");
    });

    test("deleting a thread deletes its runs, not another thread's or owner's", TIMEOUT, async () => {
      const store = getStore();
      const { owner, other } = owners("run-thread-delete");
      await store.threads.ensure({ owner, threadId: "t", runtime: null });
      const mine = await store.runs.create(run(owner, "t"));
      const otherThread = await store.runs.create(run(owner, "u"));
      const theirs = await store.runs.create(run(other, "t"));
      assert.equal(await store.threads.delete({ owner, threadId: "t" }), true);
      assert.equal(await store.runs.get(owner, mine.runId), null);
      assert.deepEqual(await store.runs.list(owner, "t"), []);
      assert.ok(await store.runs.get(owner, otherThread.runId));
      assert.ok(await store.runs.get(other, theirs.runId));
    });
  });

  describe("agent records: durability", () => {
    test("reopening keeps thread metadata, graphs, assistants and runs", TIMEOUT, async () => {
      const first = await open();
      const { owner } = owners("agent-reopen");
      const ref = { owner, threadId: randomUUID() };
      await first.threads.ensure({ ...ref, runtime: null, metadata: { graph_id: "agent", deep: { a: [1] } } });
      await first.graphs.put(graph(owner, "agent"));
      await first.assistants.create(assistant(owner, "a1"));
      const r = await first.runs.create(run(owner, ref.threadId));
      const before = {
        thread: await first.threads.get(ref),
        graph: await first.graphs.get(owner, "agent"),
        assistant: await first.assistants.get(owner, "a1"),
        run: await first.runs.get(owner, r.runId),
      };
      await first.close();
      const reopened = await open();
      assert.deepEqual(
        {
          thread: await reopened.threads.get(ref),
          graph: await reopened.graphs.get(owner, "agent"),
          assistant: await reopened.assistants.get(owner, "a1"),
          run: await reopened.runs.get(owner, r.runId),
        },
        before,
      );
      assert.equal(await reopened.threads.count(owner, { metadata: { deep: { a: [1] } } }), 1);
    });
  });
}
