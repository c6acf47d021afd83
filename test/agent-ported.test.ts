/**
 * A subset of langgraphjs's own server tests (libs/langgraph-api/tests/api.test.mts and
 * embed.test.mts, at langgraphjs f8bdf16), ported to run against Graphbox through the pinned
 * `@langchain/langgraph-sdk` Client. Their graphs (tests/graphs/*.mts) are registered with
 * `PUT /graphs/{id}` as `<name>-ts`, with Python twins as `<name>-py`, and every case that runs a
 * graph runs in both runtimes. Each test names the upstream test it ports; expectations are
 * upstream's, adapted only where Graphbox differs on purpose or a feature is absent (each said
 * where it happens):
 * - there is no `/internal/truncate`: a test that counts everything a client sees uses an API key
 *   of its own, which Graphbox scopes threads, store items and assistants to;
 * - there is no `after_seconds`: a run kept `pending` waits behind a running one instead;
 * - the `events` and `tools` stream modes are not served.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { Client } from "@langchain/langgraph-sdk";

import { startEngine, type RunningEngine } from "./support/engine.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { anyObject, anyString, assertEqual, assertMatch, stringMatching } from "./support/match.ts";
import { PORTED_RUNTIMES, registerPortedGraphs, type PortedRuntime } from "./support/ported-graphs.ts";

const KEY = "ported-key-0123456789abcdef";
const THREADS_KEY = "ported-threads-0123456789ab";
const STORE_KEY = "ported-store-0123456789abcd";

let engine: RunningEngine;
let llm: LlmStandIn;
let client: Client;

before(async () => {
  llm = await startLlmStandIn();
  engine = await startEngine(llm, { apiKeys: { ported: KEY, threads: THREADS_KEY, store: STORE_KEY } });
  client = new Client({ apiUrl: engine.url, apiKey: KEY });
  await registerPortedGraphs({ url: engine.url, key: KEY });
});
after(async () => {
  await engine?.close();
  await llm?.close();
});

// Passed to all invocation requests as upstream does (the agent graph reads `user_id`).
const globalConfig = { configurable: { user_id: "123" } };

type Json = Record<string, unknown>;
interface Message {
  content: unknown;
  type?: string;
  id?: string;
  [key: string]: unknown;
}
interface Chunk {
  event: string;
  data: unknown;
  id?: unknown;
}

const values = (chunk: Chunk | undefined): Json => (chunk?.data ?? {}) as Json;
const messagesOf = (data: unknown): Message[] => ((data as Json | null)?.["messages"] ?? []) as Message[];
/** The last chunk that passes `test` (es2022 has no findLast). */
const findLast = (chunks: Chunk[], test: (chunk: Chunk) => boolean): Chunk | undefined =>
  [...chunks].reverse().find(test);
const lastValues = (chunks: Chunk[]): Json => values(findLast(chunks, (c) => c.event === "values"));
const errors = (chunks: Chunk[]): Chunk[] => chunks.filter((c) => c.event === "error");

/** upstream's gatherIterator. */
async function gather(stream: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const out: Chunk[] = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

const withoutIds = (chunks: Chunk[]): Chunk[] => chunks.map(({ event, data }) => ({ event, data }));

/** What upstream's `rejects.toThrow(pattern)` checks. */
const rejectsWith = (pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof Error, String(err));
  assert.match(err.message, pattern);
  return true;
};

/** upstream's `pollRun`: the run's status once it is neither pending nor running. */
async function pollRun(threadId: string, runId: string): Promise<string> {
  for (let i = 0; i < 600; i++) {
    const run = await client.runs.get(threadId, runId);
    if (run.status !== "pending" && run.status !== "running") return run.status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error("Max iterations reached");
}

/** Message dicts as each runtime's LangGraph serialises them (Python's carry `name` and `usage_metadata`). */
function shapes(runtime: PortedRuntime) {
  const py = runtime === "py";
  return {
    human: (content: string, id: unknown) => ({
      content,
      additional_kwargs: {},
      response_metadata: {},
      type: "human",
      ...(py ? { name: null } : {}),
      id,
    }),
    ai: (content: string) => ({
      content,
      additional_kwargs: {},
      response_metadata: {},
      type: "ai",
      ...(py ? { name: null, usage_metadata: null } : {}),
      id: anyString,
      tool_calls: [],
      invalid_tool_calls: [],
    }),
  };
}

describe("assistants", () => {
  // api.test.mts › assistants › create read update delete
  test("create read update delete", async () => {
    const graphId = "agent-ts";
    const config = { configurable: { model_name: "gpt" } };

    let res = await client.assistants.create({ graphId, config, description: "foo" });
    assertMatch(res, { graph_id: graphId, config, description: "foo" });

    const metadata = { name: "woof" };
    await client.assistants.update(res.assistant_id, { graphId, metadata, description: "bar" });

    res = await client.assistants.get(res.assistant_id);
    assertMatch(res, { graph_id: graphId, config, metadata, description: "bar" });

    await client.assistants.delete(res.assistant_id);
    // Graphbox answers its JSON error envelope, which holds LangGraph's words.
    await assert.rejects(client.assistants.get(res.assistant_id), rejectsWith(/HTTP 404: .*Assistant not found/));
  });

  // api.test.mts › assistants › list assistants (the system assistants here are the registered graphs')
  test("list assistants", async () => {
    let search = await client.assistants.search();
    assert.ok(search.length >= 1);

    const graphid = "agent-py";
    const create = await client.assistants.create({ graphId: graphid });

    search = await client.assistants.search();
    assert.ok(search.length >= 2);

    search = await client.assistants.search({ graphId: graphid });
    assert.ok(search.length >= 2);
    assert.ok(search.every((i) => i.graph_id === graphid));

    search = await client.assistants.search({ metadata: { created_by: "system" } });
    assert.ok(search.length >= 1);
    assert.ok(search.every((i) => i.assistant_id !== create.assistant_id));
  });

  for (const { name: runtime } of PORTED_RUNTIMES) {
    // api.test.mts › assistants › schemas (the graph's drawing; Graphbox draws it at registration)
    test(`${runtime}: schemas`, async () => {
      const graphId = `agent-${runtime}`;
      const config = { configurable: { model: "openai" } };

      let res = await client.assistants.create({ graphId, config });
      assertMatch(res, { graph_id: graphId, config });
      res = await client.assistants.get(res.assistant_id);
      assertMatch(res, { graph_id: graphId, config });

      const graph = (await client.assistants.getGraph(res.assistant_id)) as {
        nodes: { id: string; type: string; data: unknown }[];
        edges: { source: string; target: string; conditional?: boolean }[];
      };
      const node = (id: string) => graph.nodes.find((n) => n.id === id);
      // Python's drawing is LangGraph Python's own (`get_graph().to_json()`), which does not type
      // `__start__` and `__end__` as schemas.
      const boundary = runtime === "ts" ? { type: "schema" } : {};
      assertMatch(node("__start__"), { id: "__start__", ...boundary });
      assertMatch(node("agent"), { id: "agent", type: "runnable", data: { name: "agent" } });
      assertMatch(node("tool"), { id: "tool", type: "runnable", data: { name: "tool" } });
      assertMatch(node("__end__"), { id: "__end__", ...boundary });
      const edge = (source: string, target: string) =>
        graph.edges.find((e) => e.source === source && e.target === target);
      assert.ok(edge("__start__", "agent"), JSON.stringify(graph.edges));
      assert.ok(edge("tool", "agent"), JSON.stringify(graph.edges));
      assert.equal(edge("agent", "tool")?.conditional, true, JSON.stringify(graph.edges));
      assert.ok(edge("agent", "__end__"), JSON.stringify(graph.edges));

      const schemas = await client.assistants.getSchemas(res.assistant_id);
      if (runtime === "ts") {
        // A graph whose state is an Annotation.Root has no run-time schema; LangGraph's JS server
        // reads the program's TypeScript types with the compiler, which the sandbox does not carry.
        assertMatch(schemas, { input_schema: null, output_schema: null, state_schema: null });
      } else {
        assert.notEqual(schemas.input_schema, null);
        assert.notEqual(schemas.output_schema, null);
        assertMatch(schemas.config_schema, { type: "object", properties: { model_name: { type: "string" } } });
        assertMatch(schemas.state_schema, { type: "object", properties: { messages: { type: "array" } } });
      }

      await client.assistants.delete(res.assistant_id);
      await assert.rejects(client.assistants.get(res.assistant_id), rejectsWith(/HTTP 404: .*Assistant not found/));
    });
  }
});

describe("threads crud", () => {
  // A key of its own stands for upstream's truncate: this client sees only these threads.
  const own = () => new Client({ apiUrl: engine.url, apiKey: THREADS_KEY });
  const clearThreads = async (c: Client) => {
    for (const thread of await c.threads.search({ limit: 100 })) await c.threads.delete(thread.thread_id);
  };

  // api.test.mts / embed.test.mts › threads crud › create, read, update, delete thread
  test("create, read, update, delete thread", async () => {
    const c = own();
    await clearThreads(c);
    const metadata = { name: "test_thread" };

    const threadOne = await c.threads.create({ metadata });
    assert.deepEqual(threadOne.metadata, metadata);

    let get = await c.threads.get(threadOne.thread_id);
    assert.equal(get.thread_id, threadOne.thread_id);
    assert.deepEqual(get.metadata, metadata);

    await c.threads.update(threadOne.thread_id, { metadata: { modified: true } });

    get = await c.threads.get(threadOne.thread_id);
    assert.deepEqual(get.metadata, { ...metadata, modified: true });

    const threadTwo = await c.threads.create({ metadata: { name: "another_thread" } });
    let search = await c.threads.search();
    assert.equal(search.length, 2);
    assert.equal(search[0]?.thread_id, threadTwo.thread_id);
    assert.equal(search[1]?.thread_id, threadOne.thread_id);

    search = await c.threads.search({ metadata: { modified: true } });
    assert.equal(search.length, 1);
    assert.equal(search[0]?.thread_id, threadOne.thread_id);

    await c.threads.delete(threadOne.thread_id);
    search = await c.threads.search();
    assert.equal(search.length, 1);
    assert.equal(search[0]?.thread_id, threadTwo.thread_id);
  });

  // api.test.mts / embed.test.mts › threads crud › list threads
  test("list threads", async () => {
    const c = own();
    await clearThreads(c);
    let search = await c.threads.search();
    assert.equal(search.length, 0);

    // test adding a single thread w/o metadata
    const createThreadResponse = await c.threads.create();
    search = await c.threads.search();
    assert.equal(search.length, 1);
    assert.equal(createThreadResponse.thread_id, search[0]?.thread_id);

    // test adding a thread w/ metadata
    const metadata = { name: "test_thread" };
    const create = await c.threads.create({ metadata });
    search = await c.threads.search();
    assert.equal(search.length, 2);
    assert.equal(create.thread_id, search[0]?.thread_id);

    // test filtering on metadata
    search = await c.threads.search({ metadata });
    assert.equal(search.length, 1);
    assert.equal(create.thread_id, search[0]?.thread_id);

    // test pagination
    search = await c.threads.search({ offset: 1, limit: 1 });
    assert.equal(search.length, 1);
    assert.equal(createThreadResponse.thread_id, search[0]?.thread_id);

    // test sorting
    search = await c.threads.search({ sortBy: "created_at", sortOrder: "asc" });
    assert.deepEqual(
      search.map((t) => t.thread_id),
      [createThreadResponse.thread_id, create.thread_id],
    );
    search = await c.threads.search({ sortBy: "created_at", sortOrder: "desc" });
    assert.deepEqual(
      search.map((t) => t.thread_id),
      [create.thread_id, createThreadResponse.thread_id],
    );
  });
});

describe("StoreClient", () => {
  // api.test.mts › StoreClient › Can put, search, list, get and delete (a key of its own: an empty store)
  test("Can put, search, list, get and delete", async () => {
    const c = new Client({ apiUrl: engine.url, apiKey: STORE_KEY });
    const namespace = ["allMethods", "data"];
    const key = randomUUID();
    const value = { foo: "bar" };

    // Try searching when no values are present.
    const searchRes = await c.store.searchItems(namespace);
    assert.equal(searchRes.items.length, 0);

    // Try listing when no values are present.
    const listRes = await c.store.listNamespaces();
    assert.equal(listRes.namespaces.length, 0);

    await c.store.putItem(namespace, key, value);

    const getRes = await c.store.getItem(namespace, key);
    assert.deepEqual(getRes?.value, value);

    const searchResAfterPut = await c.store.searchItems(namespace);
    assert.equal(searchResAfterPut.items.length, 1);
    assert.equal(searchResAfterPut.items[0]?.key, key);
    assert.deepEqual(searchResAfterPut.items[0]?.value, value);
    assert.ok(searchResAfterPut.items[0]?.createdAt);
    assert.ok(searchResAfterPut.items[0]?.updatedAt);

    const updatedValue = { foo: "baz" };
    await c.store.putItem(namespace, key, updatedValue);

    const getResAfterUpdate = await c.store.getItem(namespace, key);
    assert.deepEqual(getResAfterUpdate?.value, updatedValue);

    const searchResAfterUpdate = await c.store.searchItems(namespace);
    assert.equal(searchResAfterUpdate.items.length, 1);
    assert.equal(searchResAfterUpdate.items[0]?.key, key);
    assert.deepEqual(searchResAfterUpdate.items[0]?.value, updatedValue);
    assert.ok(
      new Date(searchResAfterUpdate.items[0]!.updatedAt).getTime() >
        new Date(searchResAfterPut.items[0]!.updatedAt).getTime(),
    );

    const listResAfterPut = await c.store.listNamespaces();
    assert.equal(listResAfterPut.namespaces.length, 1);
    assert.deepEqual(listResAfterPut.namespaces[0], namespace);

    await c.store.deleteItem(namespace, key);
    assert.equal(await c.store.getItem(namespace, key), null);
    assert.equal((await c.store.searchItems(namespace)).items.length, 0);
  });
});

// api.test.mts › runs › non-existent graph id
test("runs: non-existent graph id", async () => {
  const thread = await client.threads.create();
  const input = { messages: [{ type: "human", content: "foo", id: "initial-message" }] };
  await assert.rejects(
    client.runs.wait(thread.thread_id, "non-existent", { input }),
    rejectsWith(/No assistant found for/),
  );
  await assert.rejects(
    gather(client.runs.stream(thread.thread_id, "non-existent", { input })),
    rejectsWith(/No assistant found for/),
  );
});

for (const { name: runtime } of PORTED_RUNTIMES) {
  const agent = `agent-${runtime}`;
  const weather = `weather-${runtime}`;
  const shape = shapes(runtime);
  const input = { messages: [{ type: "human", content: "foo", id: "initial-message" }] };

  describe(`${runtime}: runs`, () => {
    // api.test.mts › runs › list runs (a run waits `pending` behind a running one: no after_seconds)
    test("list runs", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      await client.runs.wait(thread.thread_id, assistant.assistant_id, { input, config: globalConfig });

      const runningRun = await client.runs.create(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ type: "human", content: "bar" }], sleep: 30 },
        config: globalConfig,
      });
      const pendingRun = await client.runs.create(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ type: "human", content: "baz" }] },
        config: globalConfig,
        multitaskStrategy: "enqueue",
      });

      let runs = await client.runs.list(thread.thread_id);
      assert.equal(runs.length, 3);

      runs = await client.runs.list(thread.thread_id, { status: "pending" });
      assert.deepEqual(
        runs.map((r) => r.run_id),
        [pendingRun.run_id],
      );

      await client.runs.cancel(thread.thread_id, pendingRun.run_id, true);
      runs = await client.runs.list(thread.thread_id, { status: "interrupted" });
      assert.deepEqual(
        runs.map((r) => r.run_id),
        [pendingRun.run_id],
      );
      await client.runs.cancel(thread.thread_id, runningRun.run_id, true);
    });

    // api.test.mts / embed.test.mts › runs › stream values
    test("stream values", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      const chunks = await gather(
        client.runs.stream(thread.thread_id, assistant.assistant_id, {
          input,
          streamMode: "values",
          config: globalConfig,
        }),
      );

      let runId: string | null = null;
      let previousMessageIds: unknown[] = [];
      for (const chunk of chunks) {
        if (chunk.event === "metadata") runId = values(chunk)["run_id"] as string;
        if (chunk.event === "values") {
          const messageIds = messagesOf(chunk.data).map((message) => message.id);
          assert.deepEqual(messageIds.slice(0, -1), previousMessageIds);
          previousMessageIds = messageIds;
        }
      }
      assert.equal(chunks.at(-1)?.event, "values");
      assert.deepEqual(new Set(chunks.map((c) => c.event)), new Set(["metadata", "values"]));

      assert.ok(runId);
      const run = await client.runs.get(thread.thread_id, runId);
      assert.equal(run.status, "success");
      const runCheckpoints = await client.threads.getHistory(thread.thread_id);
      assert.ok(runCheckpoints.length > 1);
    });

    // api.test.mts › runs › wait error
    test("wait error", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      await assert.rejects(
        client.runs.wait(thread.thread_id, assistant.assistant_id, {
          input,
          config: { ...globalConfig, recursion_limit: 1 },
        }),
        rejectsWith(/GraphRecursionError/),
      );
      const threadUpdated = await client.threads.get(thread.thread_id);
      assert.equal(threadUpdated.status, "error");
    });

    // api.test.mts › runs › wait
    test("wait", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      const result = await client.runs.wait(thread.thread_id, assistant.assistant_id, { input, config: globalConfig });
      assert.ok(Array.isArray((result as Json)["messages"]));
      const threadUpdated = await client.threads.get(thread.thread_id);
      assert.equal(threadUpdated.status, "idle");
    });

    // api.test.mts / embed.test.mts › runs › stream updates
    test("stream updates", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      const chunks = await gather(
        client.runs.stream(thread.thread_id, assistant.assistant_id, {
          input,
          streamMode: "updates",
          config: globalConfig,
        }),
      );
      const seenNodes = chunks.filter((c) => c.event === "updates").map((c) => Object.keys(values(c))[0]);
      assert.deepEqual(seenNodes, ["agent", "tool", "agent"]);
      assert.equal(chunks.at(-1)?.event, "updates");
      assert.deepEqual(new Set(chunks.map((c) => c.event)), new Set(["metadata", "updates"]));
      const runId = values(chunks[0])["run_id"] as string;
      assert.equal((await client.runs.get(thread.thread_id, runId)).status, "success");
    });

    // api.test.mts / embed.test.mts › runs › stream messages
    test("stream messages", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      const chunks = await gather(
        client.runs.stream(thread.thread_id, assistant.assistant_id, {
          input,
          streamMode: "messages",
          config: globalConfig,
        }),
      );
      const messageIdToContent: Record<string, unknown> = {};
      let lastMessage: Message | null = null;
      for (const chunk of chunks) {
        if (chunk.event === "messages/partial") {
          const message = (chunk.data as Message[])[0]!;
          messageIdToContent[String(message.id)] = message.content;
        }
        if (chunk.event === "messages/complete") {
          const message = (chunk.data as Message[])[0]!;
          assert.notEqual(message.content, null);
          if (message.type === "ai") assert.equal(message.content, messageIdToContent[String(message.id)]);
          lastMessage = message;
        }
      }
      assert.equal(lastMessage?.content, "end");
      assert.equal(chunks.at(-1)?.event, "messages/complete");
      assert.deepEqual(
        new Set(chunks.map((c) => c.event)),
        new Set(["metadata", "messages/metadata", "messages/partial", "messages/complete"]),
      );
      const runId = values(chunks[0])["run_id"] as string;
      assert.equal((await client.runs.get(thread.thread_id, runId)).status, "success");
    });

    // api.test.mts / embed.test.mts › runs › stream messages tuple
    test("stream messages tuple", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      const chunks = await gather(
        client.runs.stream(thread.thread_id, assistant.assistant_id, {
          input,
          streamMode: "messages-tuple",
          config: globalConfig,
          streamSubgraphs: true,
        }),
      );
      const runId = values(findLast(chunks, (c) => c.event === "metadata"))["run_id"];
      assert.ok(runId);

      const messages = chunks
        .filter((c) => c.event.startsWith("messages|") || c.event === "messages")
        .map((c) => (c.data as [Message, Json])[0]);
      assert.equal(messages.length, "begin".length + "end".length + 1);
      assertMatch(messages, [
        ..."begin".split("").map((c) => ({ content: c })),
        { content: "tool_call__begin" },
        ..."end".split("").map((c) => ({ content: c })),
      ]);
      assert.deepEqual(new Set(chunks.map((c) => c.event.split("|")[0])), new Set(["metadata", "messages"]));
      assert.equal((await client.runs.get(thread.thread_id, String(runId))).status, "success");
    });

    // api.test.mts / embed.test.mts › runs › stream mixed modes
    test("stream mixed modes", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      const chunks = await gather(
        client.runs.stream(thread.thread_id, assistant.assistant_id, {
          input,
          streamMode: ["messages", "values"],
          config: globalConfig,
        }),
      );
      assert.equal(chunks.at(-1)?.event, "messages/complete");
      assert.equal(errors(chunks).length, 0);
      const messages = messagesOf(lastValues(chunks));
      assert.equal(messages.length, 4);
      assert.equal(messages.at(-1)?.content, "end");
      assert.deepEqual(
        new Set(chunks.map((c) => c.event)),
        new Set(["metadata", "messages/metadata", "messages/partial", "messages/complete", "values"]),
      );
      const runId = values(chunks[0])["run_id"] as string;
      assert.equal((await client.runs.get(thread.thread_id, runId)).status, "success");
    });

    // api.test.mts / embed.test.mts › runs › human in the loop - no modification
    test("human in the loop - no modification", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();

      // run until the interrupt
      let chunks = await gather(
        client.runs.stream(thread.thread_id, assistant.assistant_id, {
          input,
          interruptBefore: ["tool"],
          config: globalConfig,
        }),
      );
      assert.equal(errors(chunks).length, 0);
      let messages = messagesOf(findLast(chunks, (c) => c.event === "values" && "messages" in values(c))?.data);
      assert.equal((await client.threads.get(thread.thread_id)).status, "interrupted");
      assert.equal(messages.at(-1)?.content, "begin");
      assert.deepEqual((await client.threads.getState(thread.thread_id)).next, ["tool"]);

      // continue after interrupt
      chunks = await gather(
        client.runs.stream(thread.thread_id, assistant.assistant_id, { input: null, config: globalConfig }),
      );
      assert.equal(errors(chunks).length, 0);
      messages = messagesOf(lastValues(chunks));
      assert.equal(messages.length, 4);
      assert.equal(messages[2]?.content, "tool_call__begin");
      assert.equal(messages.at(-1)?.content, "end");
      assert.equal((await client.threads.get(thread.thread_id)).status, "idle");
    });

    // api.test.mts / embed.test.mts › runs › human in the loop - modification
    test("human in the loop - modification", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();

      let chunks = await gather(
        client.runs.stream(thread.thread_id, assistant.assistant_id, {
          input,
          interruptBefore: ["tool"],
          config: globalConfig,
        }),
      );
      assert.equal(errors(chunks).length, 0);

      // edit the last message
      const lastMessage = messagesOf(findLast(chunks, (c) => c.event === "values" && "messages" in values(c))?.data).at(
        -1,
      );
      assert.ok(lastMessage, "No last message");
      lastMessage.content = "modified";

      // update state
      await client.threads.updateState(thread.thread_id, { values: { messages: [lastMessage] } });
      await client.threads.update(thread.thread_id, { metadata: { modified: true } });

      const modifiedThread = await client.threads.get(thread.thread_id);
      assert.equal(modifiedThread.status, "interrupted");
      assert.equal(modifiedThread.metadata?.["modified"], true);

      const stateAfterModify = await client.threads.getState(thread.thread_id);
      assert.equal(messagesOf(stateAfterModify.values).at(-1)?.content, "modified");
      assert.deepEqual(stateAfterModify.next, ["tool"]);
      assertMatch(stateAfterModify.tasks, [{ id: anyString, name: "tool", error: null, interrupts: [] }]);

      // continue after interrupt
      chunks = await gather(
        client.runs.stream(thread.thread_id, assistant.assistant_id, { input: null, config: globalConfig }),
      );
      assert.equal((await client.threads.get(thread.thread_id)).status, "idle");
      assert.equal(errors(chunks).length, 0);
      const messages = messagesOf(lastValues(chunks));
      assert.equal(messages.length, 4);
      assert.equal(messages[2]?.content, "tool_call__modified");
      assert.equal(messages.at(-1)?.content, "end");

      // get the history
      const history = await client.threads.getHistory(thread.thread_id);
      assert.equal(history.length, 6);
      assert.equal(history[0]?.next.length, 0);
      assert.equal(messagesOf(history[0]?.values).length, 4);
      assert.deepEqual(history.at(-1)?.next, ["__start__"]);
    });

    // api.test.mts › runs › interrupt before
    test("interrupt before", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      await client.runs.wait(thread.thread_id, assistant.assistant_id, {
        input,
        interruptBefore: ["agent"],
        config: globalConfig,
      });
      assert.equal((await client.threads.get(thread.thread_id)).status, "interrupted");
    });
  });

  describe(`${runtime}: shared state`, () => {
    // api.test.mts › shared state › Should be able to use the store client to fetch values
    // (it holds "should be able to set and return data from store in config" as its first half)
    test("Should be able to use the store client to fetch values", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      const config = { configurable: { user_id: `start_user_id_${runtime}` } };
      const namespace = ["sharedState", "data"];
      const key = "user_id";

      const res1 = (await client.runs.wait(thread.thread_id, assistant.assistant_id, { input, config })) as Json;
      assertMatch(res1["sharedStateFromStoreConfig"], { id: config.configurable.user_id });

      // Fetch data from store client
      const storeRes = await client.store.getItem(namespace, key);
      assert.deepEqual(storeRes?.value, { id: config.configurable.user_id });
    });

    // api.test.mts › StoreClient › Should be able to use the store client methods
    test("Should be able to use the store client methods", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      const namespace = ["inputtedState", "data"];
      const key = "my_key";

      await client.store.putItem(namespace, key, { isTrue: true });
      // This input routes to a node that fails unless the item above is in the program's store.
      const result = await client.runs.wait(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ type: "human", content: "___check_state_value", id: "initial-message" }] },
        config: { configurable: { user_id: "start_user_id" } },
      });
      assert.equal((result as Json)["__error__"], undefined, JSON.stringify(result));

      const storeRes = await client.store.getItem(namespace, key);
      assert.deepEqual(storeRes?.value, { isTrue: true });
      await client.store.deleteItem(namespace, key);
      assert.equal(await client.store.getItem(namespace, key), null);
    });
  });

  describe(`${runtime}: subgraphs`, () => {
    // api.test.mts › subgraphs › human in the loop - no modification
    test("human in the loop - no modification", async () => {
      const assistant = await client.assistants.create({ graphId: weather });
      const thread = await client.threads.create();

      // run until the interrupt
      const chunks = await gather(
        client.runs.stream(thread.thread_id, assistant.assistant_id, {
          input: { messages: [{ role: "human", content: "SF", id: "initial-message" }] },
          interruptBefore: ["tool"],
        }),
      );
      assert.equal(errors(chunks).length, 0, JSON.stringify(errors(chunks)));
      const sf = shape.human("SF", "initial-message");
      assertEqual(chunks, [
        { event: "metadata", data: { run_id: anyString, attempt: 1 }, id: "0" },
        { event: "values", data: { messages: [sf] }, id: "1" },
        { event: "values", data: { messages: [sf], route: "weather" }, id: "2" },
        { event: "values", data: { __interrupt__: [] }, id: "3" },
      ]);

      const state = await client.threads.getState(thread.thread_id);
      assert.deepEqual(state.next, ["weather_graph"]);
      assertEqual(state.tasks, [
        {
          id: anyString,
          name: "weather_graph",
          path: ["__pregel_pull", "weather_graph"],
          error: null,
          interrupts: [],
          checkpoint: { checkpoint_ns: stringMatching(/^weather_graph:/), thread_id: anyString },
          state: null,
          result: null,
        },
      ]);

      const stateRecursive = await client.threads.getState(thread.thread_id, undefined, { subgraphs: true });
      assert.deepEqual(stateRecursive.next, ["weather_graph"]);
      assertEqual(stateRecursive.tasks, [
        {
          id: anyString,
          name: "weather_graph",
          path: ["__pregel_pull", "weather_graph"],
          error: null,
          interrupts: [],
          checkpoint: null,
          result: null,
          state: {
            values: { city: "San Francisco", messages: [sf] },
            next: ["weather_node"],
            tasks: [
              {
                id: anyString,
                name: "weather_node",
                path: ["__pregel_pull", "weather_node"],
                error: null,
                interrupts: [],
                checkpoint: null,
                state: null,
                result: null,
              },
            ],
            metadata: anyObject,
            created_at: anyString,
            checkpoint: anyObject,
            parent_checkpoint: anyObject,
          },
        },
      ]);
      assert.equal((await client.threads.get(thread.thread_id)).status, "interrupted");

      // continue after interrupt
      const chunksSubgraph = await gather(
        client.runs.stream(thread.thread_id, assistant.assistant_id, {
          input: null,
          streamMode: ["values", "updates"],
          streamSubgraphs: true,
        }),
      );
      assert.deepEqual(errors(chunksSubgraph), []);
      assert.equal(chunksSubgraph.at(-1)?.event, "values");
      const continueMessages = messagesOf(lastValues(chunksSubgraph));
      assert.equal(continueMessages.length, 2);
      assert.equal(continueMessages[0]?.content, "SF");
      assert.equal(continueMessages[1]?.content, "It's sunny in San Francisco!");

      const sunny = shape.ai("It's sunny in San Francisco!");
      assertEqual(withoutIds(chunksSubgraph.filter((c) => !c.event.startsWith("checkpoints"))), [
        { event: "metadata", data: { run_id: anyString, attempt: 1 } },
        { event: "values", data: { messages: [sf], route: "weather" } },
        { event: stringMatching(/^values\|weather_graph:/), data: { messages: [sf], city: "San Francisco" } },
        { event: stringMatching(/^updates\|weather_graph:/), data: { weather_node: { messages: [sunny] } } },
        {
          event: stringMatching(/^values\|weather_graph:/),
          data: { messages: [sf, sunny], city: "San Francisco" },
        },
        { event: "updates", data: { weather_graph: { messages: [sf, sunny] } } },
        { event: "values", data: { messages: [sf, sunny], route: "weather" } },
      ]);
    });

    // api.test.mts / embed.test.mts › subgraphs › human in the loop - modification
    test("human in the loop - modification", async () => {
      const assistant = await client.assistants.create({ graphId: weather });
      const thread = await client.threads.create();
      const weatherInput = { messages: [{ role: "human", content: "SF", id: "initial-message" }] };

      // run until the interrupt (same as before)
      let chunks = await gather(client.runs.stream(thread.thread_id, assistant.assistant_id, { input: weatherInput }));
      assert.deepEqual(errors(chunks), []);

      // get state after interrupt
      const state = await client.threads.getState(thread.thread_id);
      assert.deepEqual(state.next, ["weather_graph"]);
      assertEqual(state.tasks, [
        {
          id: anyString,
          name: "weather_graph",
          path: ["__pregel_pull", "weather_graph"],
          error: null,
          interrupts: [],
          checkpoint: { checkpoint_ns: stringMatching(/^weather_graph:/), thread_id: anyString },
          state: null,
          result: null,
        },
      ]);
      const subgraphCheckpoint = state.tasks[0]?.checkpoint ?? undefined;

      // edit the city in the subgraph state
      await client.threads.updateState(thread.thread_id, { values: { city: "LA" }, checkpoint: subgraphCheckpoint });

      // get inner state after update
      const innerState = await client.threads.getState<{ city: string }>(thread.thread_id, subgraphCheckpoint);
      assert.equal(innerState.values.city, "LA");
      assert.deepEqual(innerState.next, ["weather_node"]);
      assertEqual(innerState.tasks, [
        {
          id: anyString,
          name: "weather_node",
          path: ["__pregel_pull", "weather_node"],
          error: null,
          interrupts: [],
          checkpoint: null,
          state: null,
          result: null,
        },
      ]);

      // continue after interrupt
      chunks = await gather(client.runs.stream(thread.thread_id, assistant.assistant_id, { input: null }));
      assert.deepEqual(errors(chunks), []);
      assert.equal(chunks.at(-1)?.event, "values");
      const continueMessages = messagesOf(lastValues(chunks));
      assert.equal(continueMessages.length, 2);
      assert.equal(continueMessages[0]?.content, "SF");
      assert.equal(continueMessages[1]?.content, "It's sunny in LA!");

      // get the history for the root graph
      const history = await client.threads.getHistory(thread.thread_id);
      assert.equal(history.length, 4);
      assert.equal(history[0]?.next.length, 0);
      assert.equal(messagesOf(history[0]?.values).length, 2);
      assert.deepEqual(history.at(-1)?.next, ["__start__"]);

      // get inner history
      const innerHistory = await client.threads.getHistory(thread.thread_id, { checkpoint: subgraphCheckpoint });
      assert.equal(innerHistory.length, 5);
      assert.equal(innerHistory[0]?.next.length, 0);
      assert.equal(messagesOf(innerHistory[0]?.values).length, 2);
      assert.deepEqual(innerHistory.at(-1)?.next, ["__start__"]);
    });

    // api.test.mts › subgraphs › interrupt inside node
    test("interrupt inside node", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      let thread = await client.threads.create();
      await client.runs.wait(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ role: "human", content: "SF", id: "initial-message" }], interrupt: true },
        config: globalConfig,
      });

      const state = await client.threads.getState(thread.thread_id);
      assert.deepEqual(state.next, ["agent"]);
      assertMatch(state.tasks, [
        {
          id: anyString,
          name: "agent",
          path: ["__pregel_pull", "agent"],
          error: null,
          interrupts: [{ id: anyString, value: "i want to interrupt" }],
          checkpoint: null,
          state: null,
          result: null,
        },
      ]);

      thread = await client.threads.get(thread.thread_id);
      assert.equal(thread.status, "interrupted");
      assertMatch(thread.interrupts, { [state.tasks[0]!.id]: [{ id: anyString, value: "i want to interrupt" }] });

      const chunks = await gather(
        client.runs.stream(thread.thread_id, assistant.assistant_id, {
          command: { resume: "i want to resume" },
          config: globalConfig,
        }),
      );
      assert.equal(chunks.at(-1)?.event, "values");
      assert.equal(messagesOf(chunks.at(-1)?.data).length, 4);
    });
  });

  describe(`${runtime}: errors`, () => {
    // api.test.mts › errors › stream (without the `events` mode, which Graphbox does not serve)
    test("stream", async () => {
      const thread = await client.threads.create();
      const chunks = await gather(
        client.runs.stream(thread.thread_id, `error-${runtime}`, { input: { messages: [] }, streamMode: ["debug"] }),
      );
      assertMatch(chunks.at(-1), { event: "error", data: { error: "CustomError", message: "Boo!" } });
    });

    // api.test.mts › errors › create + join
    test("create + join", async () => {
      const assistant = await client.assistants.create({ graphId: `error-${runtime}` });
      const thread = await client.threads.create();
      const run = await client.runs.create(thread.thread_id, assistant.assistant_id, { input: { messages: [] } });
      await client.runs.join(thread.thread_id, run.run_id);
      assert.equal((await client.runs.get(thread.thread_id, run.run_id)).status, "error");
    });

    // api.test.mts › errors › create + stream join
    test("create + stream join", async () => {
      const assistant = await client.assistants.create({ graphId: `error-${runtime}` });
      const thread = await client.threads.create();
      const run = await client.runs.create(thread.thread_id, assistant.assistant_id, { input: { messages: [] } });
      const chunks = await gather(client.runs.joinStream(thread.thread_id, run.run_id));
      assertMatch(chunks.at(-1), { event: "error", data: { error: "CustomError", message: "Boo!" } });
      assert.equal((await client.runs.get(thread.thread_id, run.run_id)).status, "error");
    });
  });

  // api.test.mts › long running tasks › long running task with 1000ms delay
  test(`${runtime}: long running task with 1000ms delay`, async () => {
    const delay = 1000;
    const assistant = await client.assistants.create({ graphId: `delay-${runtime}` });
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, assistant.assistant_id, {
      input: { messages: [], delay },
      config: globalConfig,
    });
    await client.runs.join(thread.thread_id, run.run_id);
    assert.equal((await client.runs.get(thread.thread_id, run.run_id)).status, "success");
    const runResult = await client.threads.getState(thread.thread_id);
    assertMatch(messagesOf(runResult.values), [{ content: `finished after ${delay}ms` }]);
  });

  // api.test.mts › threads crud › update state while run in flight (the run is in flight for
  // real: the delay graph runs 30 s, where upstream schedules it with after_seconds)
  test(`${runtime}: update state while run in flight`, async () => {
    const thread = await client.threads.create();
    const run = await client.runs.create(thread.thread_id, `delay-${runtime}`, {
      input: { messages: [{ role: "human", content: "foo" }], delay: 30_000 },
    });
    const sisyphus = { messages: [{ type: "ai", content: "One must imagine Sisyphus happy." }] };

    // Attempt to update state while run is in flight - should fail
    await assert.rejects(
      client.threads.updateState(thread.thread_id, { values: sisyphus, asNode: "long_running" }),
      rejectsWith(/HTTP 409/),
    );

    await client.runs.cancel(thread.thread_id, run.run_id);
    const state = await client.threads.getState(thread.thread_id);
    assert.doesNotMatch(JSON.stringify(state), /Sisyphus/);

    // Join the run and verify it was interrupted
    await client.runs.join(thread.thread_id, run.run_id);
    assert.equal((await client.runs.get(thread.thread_id, run.run_id)).status, "interrupted");
    assert.equal((await client.threads.get(thread.thread_id)).status, "idle");

    // Now update state should work
    await client.threads.updateState(thread.thread_id, { values: sisyphus, asNode: "long_running" });
    assert.match(JSON.stringify(await client.threads.getState(thread.thread_id)), /Sisyphus/);
  });

  describe(`${runtime}: command update state`, () => {
    // api.test.mts / embed.test.mts › command update state › updates state via commands
    test("updates state via commands", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      await client.runs.wait(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ role: "human", content: "foo" }] },
        config: globalConfig,
      });
      const chunks = await gather(
        client.runs.stream(thread.thread_id, assistant.assistant_id, {
          command: { update: { keyOne: "value3", keyTwo: "value4" } },
          config: globalConfig,
        }),
      );
      assert.deepEqual(errors(chunks), []);
      const state = await client.threads.getState(thread.thread_id);
      assertMatch(state.values, { keyOne: "value3", keyTwo: "value4" });
    });

    // embed.test.mts › command update state › list-based updates
    test("list-based updates", async () => {
      const thread = await client.threads.create();
      await gather(
        client.runs.stream(thread.thread_id, agent, {
          input: { messages: [{ role: "human", content: "foo" }] },
          config: globalConfig,
        }),
      );
      const chunks = await gather(
        client.runs.stream(thread.thread_id, agent, {
          command: {
            update: [
              ["keyOne", "value1"],
              ["keyTwo", "value2"],
            ],
          },
          config: globalConfig,
        }),
      );
      assert.deepEqual(errors(chunks), []);
      const state = await client.threads.getState(thread.thread_id);
      assertMatch(state.values, { keyOne: "value1", keyTwo: "value2" });
    });
  });

  const checkpointsOf = (chunks: Chunk[]) =>
    chunks
      .filter((c) => c.event === "debug" && values(c)["type"] === "checkpoint")
      .map((c) => values(c)["payload"] as Json);
  const stepAndCheckpoints = (items: { metadata?: unknown; checkpoint?: unknown; parent_checkpoint?: unknown }[]) =>
    items.map((i) => ({
      step: (i.metadata as Json | undefined)?.["step"],
      checkpoint: i.checkpoint,
      parent_checkpoint: i.parent_checkpoint,
    }));

  // api.test.mts / embed.test.mts › stream debug checkpoint
  test(`${runtime}: stream debug checkpoint`, async () => {
    const assistant = await client.assistants.create({ graphId: weather });
    const thread = await client.threads.create();
    const chunks = await gather(
      client.runs.stream(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ role: "human", content: "What's the weather in SF?" }] },
        streamMode: "debug",
      }),
    );
    const stream = checkpointsOf(chunks);
    assert.ok(stream.length > 0, "debug checkpoints were streamed");
    const history = (await client.threads.getHistory(thread.thread_id, { limit: stream.length })).reverse();
    assert.deepEqual(stepAndCheckpoints(stream), stepAndCheckpoints(history));
  });

  // api.test.mts / embed.test.mts › continue after interrupt must have checkpoint present
  test(`${runtime}: continue after interrupt must have checkpoint present`, async () => {
    const thread = await client.threads.create();
    let chunks = await gather(
      client.runs.stream(thread.thread_id, weather, {
        input: { messages: [{ role: "human", content: "What's weather in SF?" }] },
        streamMode: "debug",
        interruptBefore: ["router_node"],
      }),
    );
    const initialStream = checkpointsOf(chunks);
    const history = (await client.threads.getHistory(thread.thread_id)).reverse();
    const checkpoint = history[history.length - 1]!.checkpoint;

    // Continue the run from the checkpoint
    chunks = await gather(client.runs.stream(thread.thread_id, weather, { streamMode: "debug", checkpoint }));
    const continueHistory = (await client.threads.getHistory(thread.thread_id)).reverse();
    const continueStream = checkpointsOf(chunks);
    // LangGraph JS streams the checkpoint it resumes from again; LangGraph Python does not.
    const resumedFrom = runtime === "ts" ? 1 : 0;
    assert.deepEqual(
      stepAndCheckpoints([...initialStream, ...continueStream.slice(resumedFrom)]),
      stepAndCheckpoints(continueHistory),
    );
  });

  describe(`${runtime}: multitasking`, () => {
    // api.test.mts › multitasking › multitasking reject
    test("multitasking reject", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      const sleepy = { messages: [{ role: "human", content: "foo", id: "initial-message" }], sleep: 1 };
      const run = await client.runs.create(thread.thread_id, assistant.assistant_id, {
        input: sleepy,
        config: globalConfig,
      });
      await assert.rejects(
        client.runs.create(thread.thread_id, assistant.assistant_id, {
          input: sleepy,
          multitaskStrategy: "reject",
          config: globalConfig,
        }),
      );
      assert.equal(await pollRun(thread.thread_id, run.run_id), "success");
    });

    // api.test.mts › multitasking › multitasking interrupt
    test("multitasking interrupt", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      const run1 = await client.runs.create(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ role: "human", content: "foo", id: "initial-message-1" }], sleep: 2 },
        config: globalConfig,
      });
      const run2 = await client.runs.create(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ role: "human", content: "bar", id: "initial-message-2" }], sleep: 0 },
        multitaskStrategy: "interrupt",
        config: globalConfig,
      });
      assert.equal(await pollRun(thread.thread_id, run1.run_id), "interrupted");
      assert.equal(await pollRun(thread.thread_id, run2.run_id), "success");

      const messages = messagesOf((await client.threads.getState(thread.thread_id)).values);
      if (messages.length === 4) {
        assert.equal(messages[0]?.content, "bar");
      } else {
        // x in <5, 8>
        assert.ok(messages.length >= 5 && messages.length <= 8, `${messages.length} messages`);
        assert.equal(messages.at(0)?.content, "foo");
      }
    });

    // api.test.mts › multitasking › multitasking rollback (the rolled-back run is not deleted but
    // ends `error`, as LangGraph's JS server keeps it: agent-ref transcript 09-multitask)
    test("multitasking rollback", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      const run1 = await client.runs.create(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ role: "human", content: "foo", id: "initial-message-1" }], sleep: 4 },
        config: globalConfig,
      });
      const run2 = await client.runs.create(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ role: "human", content: "bar", id: "initial-message-2" }] },
        multitaskStrategy: "rollback",
        config: globalConfig,
      });

      assert.equal(await pollRun(thread.thread_id, run1.run_id), "error");
      assert.equal(await pollRun(thread.thread_id, run2.run_id), "success");
      const messages = messagesOf((await client.threads.getState(thread.thread_id)).values);
      assert.equal(messages.length, 4);
      assert.equal(messages.at(0)?.content, "bar");
    });

    // api.test.mts › multitasking › multitasking enqueue
    test("multitasking enqueue", async () => {
      const assistant = await client.assistants.create({ graphId: agent });
      const thread = await client.threads.create();
      const run1 = await client.runs.create(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ role: "human", content: "foo", id: "initial-message-1" }], sleep: 2 },
        config: globalConfig,
      });
      const run2 = await client.runs.create(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ role: "human", content: "bar", id: "initial-message-2" }], sleep: 0 },
        multitaskStrategy: "enqueue",
        config: globalConfig,
      });
      assert.equal(await pollRun(thread.thread_id, run1.run_id), "success");
      assert.equal(await pollRun(thread.thread_id, run2.run_id), "success");
      const messages = messagesOf((await client.threads.getState(thread.thread_id)).values);
      assert.equal(messages.length, 8);
      assert.equal(messages.at(0)?.content, "foo");
      assert.equal(messages.at(-4)?.content, "bar");
    });
  });

  // api.test.mts › resumable streams
  test(`${runtime}: resumable streams`, async () => {
    const assistant = await client.assistants.create({ graphId: agent });
    const thread = await client.threads.create();
    let onRunCreated: ((params: { run_id: string; thread_id?: string }) => void) | undefined;
    const waitRun = new Promise<{ run_id: string; thread_id?: string }>((resolve) => (onRunCreated = resolve));

    const stream = client.runs.stream(thread.thread_id, assistant.assistant_id, {
      input: { messages: [{ role: "human", content: "input" }], sleep: { steps: 3, ms: 1000 } },
      streamResumable: true,
      streamMode: ["values", "custom"],
      config: globalConfig,
      onRunCreated,
    });

    const [join, source] = await Promise.all([
      (async () => {
        const [{ run_id }] = await Promise.all([waitRun, new Promise((resolve) => setTimeout(resolve, 1500))]);
        return gather(client.runs.joinStream(thread.thread_id, run_id, { lastEventId: "-1" }));
      })(),
      gather(stream),
    ]);
    assert.ok(
      source.some((c) => c.event === "custom"),
      "the sleep steps were streamed",
    );
    assert.deepEqual(join, source);
  });

  // api.test.mts / embed.test.mts › tasks / checkpoints stream mode
  test(`${runtime}: tasks / checkpoints stream mode`, async () => {
    const assistant = await client.assistants.create({ graphId: agent });
    const thread = await client.threads.create();
    const chunks = await gather(
      client.runs.stream(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ role: "human", content: "input" }] },
        streamMode: ["tasks", "checkpoints"],
        config: globalConfig,
      }),
    );
    const human = { content: "input", type: "human" };
    const begin = { content: "begin", type: "ai" };
    const toolCall = { content: "tool_call__begin", tool_call_id: "tool_call_id", type: "tool" };
    const end = { content: "end", type: "ai" };
    // LangGraph Python's task-start payload has no `interrupts` (its end payload has).
    const startInterrupts = runtime === "ts" ? { interrupts: [] } : {};
    assertMatch(chunks, [
      { event: "metadata", data: { run_id: anyString } },
      {
        event: "checkpoints",
        data: { values: { messages: [] }, metadata: { source: "input", step: -1 }, next: ["__start__"] },
      },
      {
        event: "checkpoints",
        data: { values: { messages: [human] }, metadata: { source: "loop", step: 0 }, next: ["agent"] },
      },
      {
        event: "tasks",
        data: { name: "agent", input: { messages: [human] }, triggers: ["branch:to:agent"], ...startInterrupts },
      },
      { event: "tasks", data: { name: "agent", result: { messages: [begin] }, interrupts: [] } },
      {
        event: "checkpoints",
        data: { values: { messages: [human, begin] }, metadata: { source: "loop", step: 1 }, next: ["tool"] },
      },
      {
        event: "tasks",
        data: { name: "tool", input: { messages: [human, begin] }, triggers: ["branch:to:tool"], ...startInterrupts },
      },
      { event: "tasks", data: { name: "tool", result: { messages: [toolCall] }, interrupts: [] } },
      {
        event: "checkpoints",
        data: {
          values: { messages: [human, begin, toolCall] },
          metadata: { source: "loop", step: 2 },
          next: ["agent"],
        },
      },
      {
        event: "tasks",
        data: {
          name: "agent",
          input: { messages: [human, begin, toolCall] },
          triggers: ["branch:to:agent"],
          ...startInterrupts,
        },
      },
      { event: "tasks", data: { name: "agent", result: { messages: [end] }, interrupts: [] } },
      {
        event: "checkpoints",
        data: {
          values: { messages: [human, begin, toolCall, end] },
          metadata: { source: "loop", step: 3 },
          next: [],
        },
      },
    ]);
  });

  describe(`${runtime}: runtime API`, () => {
    // api.test.mts / embed.test.mts › runtime API › simple
    test("simple", async () => {
      const assistant = await client.assistants.create({ graphId: `simple_runtime-${runtime}` });
      const thread = await client.threads.create();
      let created = 0;
      const result = await client.runs.wait(thread.thread_id, assistant.assistant_id, {
        input: { messages: [{ role: "human", content: "input" }] },
        context: { model: "openai" },
        onRunCreated: () => void created++,
      });
      assert.deepEqual(result, { model: "openai" });
      assert.equal(created, 1);
    });

    // api.test.mts › runtime API › assistant crud
    test("assistant crud", async () => {
      const assistant = await client.assistants.create({
        graphId: `simple_runtime-${runtime}`,
        context: { model: "anthropic" },
      });
      let created = 0;
      const run = () =>
        client.runs.wait(null, assistant.assistant_id, {
          input: { messages: [{ role: "human", content: "input" }] },
          onRunCreated: () => void created++,
        });
      assert.deepEqual(await run(), { model: "anthropic" });
      assert.equal(created, 1);

      // patch to say openai
      await client.assistants.update(assistant.assistant_id, { context: { model: "openai" } });
      assert.deepEqual(await run(), { model: "openai" });
      assert.equal(created, 2);
    });
  });
}
