/**
 * LangGraph's official JS client (`@langchain/langgraph-sdk`, pinned) drives Graphbox as a user
 * would: programs registered with `PUT /graphs/{id}`, then threads, streamed runs with tokens from
 * the LLM stand-in, an interrupt resumed with a Command, state and history, a fork, a cancelled
 * run, a background run joined, the store across threads, multitask strategies, a stateless run.
 * Every program runs in a real sandbox behind the real gateway.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { Client } from "@langchain/langgraph-sdk";

import { startEngine, type RunningEngine } from "./support/engine.ts";
import { AGENT_PROGRAMS, registerProgram } from "./support/agent-programs.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";

const ALICE = "alice-key-0123456789abcdef";
const BOB = "bob-key-0123456789abcdef0";

let engine: RunningEngine;
let llm: LlmStandIn;
let alice: Client;
let bob: Client;

type Json = Record<string, unknown>;

before(async () => {
  llm = await startLlmStandIn();
  engine = await startEngine(llm, { apiKeys: { alice: ALICE, bob: BOB } });
  alice = new Client({ apiUrl: engine.url, apiKey: ALICE });
  bob = new Client({ apiUrl: engine.url, apiKey: BOB });
  for (const [graphId, program] of Object.entries(AGENT_PROGRAMS))
    await registerProgram({ url: engine.url, key: ALICE, graphId, ...program });
});
after(async () => {
  await engine?.close();
  await llm?.close();
});

async function collect(stream: AsyncIterable<{ event: string; data: unknown }>) {
  const events: { event: string; data: unknown }[] = [];
  for await (const chunk of stream) events.push(chunk);
  return events;
}

for (const graphId of ["py-chat", "ts-chat"]) {
  test(`${graphId}: a streamed run with values, updates and messages-tuple carries the stand-in's tokens`, async () => {
    const thread = await alice.threads.create({ metadata: { purpose: "chat" } });
    const tokensBefore = llm.totalTokens();
    const events = await collect(
      alice.runs.stream(thread.thread_id, graphId, {
        input: { messages: [{ role: "user", content: "hi there" }] },
        streamMode: ["values", "updates", "messages-tuple"],
      }),
    );
    assert.equal(events[0]?.event, "metadata");
    assert.match(String((events[0]?.data as Json)["run_id"]), /^[0-9a-f-]{36}$/);
    const names = new Set(events.map((e) => e.event));
    for (const name of ["values", "updates", "messages"])
      assert.ok(names.has(name), `no ${name} event in ${[...names]}`);
    const tokens = events
      .filter((e) => e.event === "messages")
      .map((e) => (e.data as [{ content: string }, Json])[0].content)
      .join("");
    assert.equal(tokens, "Hello from the stand-in! You said: hi there");
    const update = events.find((e) => e.event === "updates")?.data as Json;
    assert.ok(update["chat"], "the update names its node");
    const last = events.filter((e) => e.event === "values").at(-1)?.data as { messages: { content: string }[] };
    assert.equal(last.messages.at(-1)?.content, "Hello from the stand-in! You said: hi there");

    const found = await alice.threads.search({ metadata: { graph_id: graphId } });
    assert.ok(
      found.some((t) => t.thread_id === thread.thread_id),
      "runs stamp graph_id into the thread's metadata",
    );
    const state = await alice.threads.getState(thread.thread_id);
    assert.deepEqual(state.next, []);
    assert.equal((state.values as { messages: unknown[] }).messages.length, 2);
    const runs = await alice.runs.list(thread.thread_id);
    assert.equal(runs.length, 1);
    assert.equal(runs[0]?.status, "success");
    // A run is an execution: the gateway's tokens and each node's timing are in its metadata.
    const metering = runs[0]?.metadata?.["graphbox"] as { tokens_used: number; node_timings: { node: string }[] };
    assert.equal(metering.tokens_used, llm.totalTokens() - tokensBefore);
    assert.deepEqual(
      metering.node_timings.map((t) => t.node),
      ["chat"],
    );
  });
}

for (const graphId of ["py-approval", "ts-approval"]) {
  test(`${graphId}: an interrupt, state and history, a resume with a Command, a fork from a checkpoint`, async () => {
    const thread = await alice.threads.create();
    const first = await alice.runs.wait(thread.thread_id, graphId, { input: { draft: "post" } });
    const interrupts = (first as Json)["__interrupt__"] as { value: Json }[];
    assert.equal(interrupts[0]?.value["question"], "approve?");

    const waiting = await alice.threads.get(thread.thread_id);
    assert.equal(waiting.status, "interrupted");
    const state = await alice.threads.getState(thread.thread_id);
    assert.deepEqual(state.next, ["review"]);
    assert.equal(state.tasks[0]?.name, "review");
    assert.equal((state.tasks[0]?.interrupts[0]?.value as Json)["draft"], "draft of post");

    const done = await alice.runs.wait(thread.thread_id, graphId, { command: { resume: "yes" } });
    assert.equal((done as Json)["done"], "published");
    assert.equal((await alice.threads.get(thread.thread_id)).status, "idle");

    const history = await alice.threads.getHistory(thread.thread_id, { limit: 10 });
    assert.ok(history.length >= 4, `history has ${history.length} states`);
    assert.ok(
      history.some((h) => h.next.includes("review")),
      "a checkpoint waits at review",
    );

    // Fork: replay from the checkpoint before `write`, which stops at the interrupt again on a new
    // branch, and answer it differently there.
    const start = history.find((h) => h.next.includes("write"));
    assert.ok(start, "a checkpoint waits at write");
    const replay = (await alice.runs.wait(thread.thread_id, graphId, {
      checkpointId: start.checkpoint.checkpoint_id ?? undefined,
    })) as Json;
    assert.ok(replay["__interrupt__"], "the replay stops at the interrupt again");
    const forked = await alice.runs.wait(thread.thread_id, graphId, { command: { resume: "no" } });
    assert.equal((forked as Json)["done"], "discarded");
  });
}

test("updateState with as_node, then the state shows it", async () => {
  const thread = await alice.threads.create();
  await alice.runs.wait(thread.thread_id, "py-approval", { input: { draft: "x" } });
  await alice.threads.updateState(thread.thread_id, { values: { approved: true }, asNode: "review" });
  const state = await alice.threads.getState(thread.thread_id);
  assert.deepEqual(state.next, ["finish"]);
  assert.equal((state.values as Json)["approved"], true);
});

test("a long run is cancelled: it ends interrupted and the thread is idle again", async () => {
  const thread = await alice.threads.create();
  const run = await alice.runs.create(thread.thread_id, "py-slow", { input: { n: 30 } });
  await waitFor(async () => (await alice.runs.get(thread.thread_id, run.run_id)).status === "running");
  await alice.runs.cancel(thread.thread_id, run.run_id, true);
  assert.equal((await alice.runs.get(thread.thread_id, run.run_id)).status, "interrupted");
  assert.equal((await alice.threads.get(thread.thread_id)).status, "idle");
});

test("a background run is joined; reject and enqueue on a busy thread", async () => {
  const thread = await alice.threads.create();
  const slow = await alice.runs.create(thread.thread_id, "py-slow", { input: { n: 2 } });
  await assert.rejects(
    alice.runs.create(thread.thread_id, "py-slow", { input: { n: 0 }, multitaskStrategy: "reject" }),
    (err: Error & { status?: number }) => err.status === 422,
  );
  const queued = await alice.runs.create(thread.thread_id, "py-slow", {
    input: { n: 0 },
    multitaskStrategy: "enqueue",
  });
  assert.equal(queued.status, "pending");
  const joined = (await alice.runs.join(thread.thread_id, slow.run_id)) as Json;
  assert.equal(joined["n"], 3);
  const last = (await alice.runs.join(thread.thread_id, queued.run_id)) as Json;
  assert.equal(last["n"], 1);
  const statuses = (await alice.runs.list(thread.thread_id)).map((r) => r.status);
  assert.deepEqual(statuses, ["success", "success"]);
});

test("the store: a memory written on one thread is found on another; another key sees none", async () => {
  const config = { configurable: { user_id: "u1" } };
  const t1 = await alice.threads.create();
  await alice.runs.wait(t1.thread_id, "py-memory", { input: { remember: "likes tea" }, config });
  const t2 = await alice.threads.create();
  const recalled = (await alice.runs.wait(t2.thread_id, "py-memory", { input: {}, config })) as Json;
  assert.deepEqual(recalled["recalled"], ["likes tea"]);
  const item = await alice.store.getItem(["memories", "u1"], "likes tea");
  assert.deepEqual(item?.value, { text: "likes tea" });
  assert.equal(await bob.store.getItem(["memories", "u1"], "likes tea"), null);
  const search = await alice.store.searchItems(["memories"], { filter: { text: "likes tea" } });
  assert.equal(search.items.length, 1);
});

test("a stateless run answers and leaves no thread behind", async () => {
  const values = (await alice.runs.wait(null, "py-slow", { input: { n: 0 } })) as Json;
  assert.equal(values["n"], 1);
  const events = await collect(
    alice.runs.stream(null, "ts-chat", { input: { messages: [{ role: "user", content: "yo" }] } }),
  );
  assert.equal(events[0]?.event, "metadata");
  assert.equal(events.at(-1)?.event, "values");
});

describe("ownership", () => {
  test("another key's threads, runs and graphs are not found", async () => {
    const thread = await alice.threads.create();
    await assert.rejects(bob.threads.get(thread.thread_id), (err: Error & { status?: number }) => err.status === 404);
    await assert.rejects(
      bob.runs.wait(null, "py-slow", { input: { n: 0 } }),
      (err: Error & { status?: number }) => err.status === 404,
    );
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}
