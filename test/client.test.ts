/** @graphbox/client against the real engine: every method, typed events, reconnects, aborts and errors. */
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  GraphboxClient,
  GraphboxError,
  GraphboxExecutionError,
  isTerminal,
  outcomeOf,
  type StreamEvent,
} from "../packages/client/src/index.ts";
import { programSource } from "./support/corpus.ts";
import { engineWithLlm, startEngine } from "./support/engine.ts";

const context = engineWithLlm();
const client = () => new GraphboxClient({ url: context.engine.url });

const ECHO = programSource("python/01_echo.py");
const HELLO = { messages: [{ role: "user", content: "Hello" }] };

/** Three nodes, the middle one sleeping `sleep` seconds: time to act while it runs. */
const THREE_STEPS = `import time, operator
from typing import Annotated, TypedDict
from langgraph.graph import StateGraph, START, END

class State(TypedDict, total=False):
    log: Annotated[list, operator.add]
    sleep: float

def first(state):
    return {"log": ["first"]}

def slow(state):
    time.sleep(state.get("sleep", 1))
    return {"log": ["slow"]}

def last(state):
    return {"log": ["last"]}

workflow = StateGraph(State)
for name, fn in (("first", first), ("slow", slow), ("last", last)):
    workflow.add_node(name, fn)
workflow.add_edge(START, "first")
workflow.add_edge("first", "slow")
workflow.add_edge("slow", "last")
workflow.add_edge("last", END)
`;

async function collect(events: AsyncIterable<StreamEvent>, onEvent?: (e: StreamEvent) => void): Promise<StreamEvent[]> {
  const seen: StreamEvent[] = [];
  for await (const event of events) {
    seen.push(event);
    onEvent?.(event);
  }
  return seen;
}

const ids = (events: StreamEvent[]) => events.map((e) => e.id);

test("execute: the typed answer of a run", async () => {
  const answer = await client().execute({ code: ECHO, language: "python", inputs: HELLO });
  assert.equal(answer.status, "success", JSON.stringify(answer));
  assert.deepEqual(answer.result.metadata.nodes_executed, ["greet", "shout"]);
  assert.equal(answer.result.messages.at(-1)?.content, "ECHO: HELLO");
  assert.equal(answer.result.metadata.runtime, "python");
  assert.deepEqual(
    answer.result.metadata.node_timings.map((t) => [t.node, t.status]),
    [
      ["greet", "ok"],
      ["shout", "ok"],
    ],
  );
});

test("stream: typed events in order, tokens as the LLM streams them, one terminal event", async () => {
  const events = await collect(
    client().stream({
      code: programSource("python/10_streaming.py"),
      inputs: { messages: [{ role: "user", content: "Stream please" }] },
    }),
  );
  assert.deepEqual(
    ids(events),
    events.map((_, i) => i + 1),
    "ids 1, 2, 3...",
  );
  const first = events[0]!;
  assert.equal(first.event, "metadata");
  if (first.event === "metadata") assert.equal(first.data.runtime, "python");
  const names = events.map((e) => e.event);
  assert.ok(names.indexOf("node_start") < names.indexOf("token"));
  assert.ok(names.lastIndexOf("token") < names.indexOf("node_end"));
  const tokens = events.flatMap((e) => (e.event === "token" ? [e.data] : []));
  assert.ok(tokens.length > 1, "several deltas");
  assert.ok(tokens.every((t) => t.node === "writer"));
  const last = events.at(-1)!;
  assert.ok(isTerminal(last));
  assert.equal(events.filter(isTerminal).length, 1);
  const outcome = outcomeOf(last);
  assert.equal(outcome.status, "success");
  if (outcome.status !== "success") return;
  assert.equal(tokens.map((t) => t.content).join(""), outcome.result.messages.at(-1)?.content);
  const end = events.find((e) => e.event === "node_end");
  assert.ok(end?.event === "node_end" && end.data.node === "writer" && end.data.duration_ms >= 0);
});

test("a stream cut mid-run is followed again with GET /executions/{id}/stream and Last-Event-ID: no event lost or repeated", async () => {
  const calls: { method: string; url: string; lastEventId: string | null; seenBefore: number }[] = [];
  let seen: StreamEvent[] = [];
  // A proxy that drops the client's side of the connection after the first node ends, while the
  // engine's side stays open (the engine would cancel a run whose client it sees go).
  const cutting: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    calls.push({
      method: init?.method ?? "GET",
      url: String(input),
      lastEventId: headers.get("last-event-id"),
      seenBefore: seen.at(-1)?.id ?? 0,
    });
    const response = await fetch(input, init);
    if (init?.method !== "POST" || !response.body) return response;
    const upstream = response.body.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await upstream.read();
        if (done) return controller.close();
        text += decoder.decode(value, { stream: true });
        // Half of the chunk goes through, then the connection "drops".
        if (/event: node_end/.test(text)) {
          controller.enqueue(value.subarray(0, Math.floor(value.length / 2)));
          controller.error(new TypeError("terminated"));
          const drain = async (): Promise<void> => {
            while (!(await upstream.read()).done);
          };
          drain().catch(() => undefined);
          return;
        }
        controller.enqueue(value);
      },
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  const resilient = new GraphboxClient({ url: context.engine.url, fetch: cutting, reconnectDelayMs: 10 });
  const events = await collect(resilient.stream({ code: THREE_STEPS, inputs: { log: [], sleep: 0.5 } }), (e) => {
    seen = [...seen, e];
  });
  assert.deepEqual(
    calls.map((c) => c.method),
    ["POST", "GET"],
  );
  const follow = calls[1]!;
  assert.match(follow.url, /\/executions\/[^/]+\/stream$/);
  assert.equal(follow.lastEventId, String(follow.seenBefore), "Last-Event-ID is the last event read");
  assert.ok(follow.seenBefore >= 1);
  assert.deepEqual(
    ids(events),
    events.map((_, i) => i + 1),
    "every id once, in order",
  );
  const last = events.at(-1)!;
  assert.equal(last.event, "complete");
  if (last.event === "complete") assert.deepEqual(last.data.result.state["log"], ["first", "slow", "last"]);
});

test("AbortSignal: aborting a stream throws AbortError and the engine cancels the execution", async () => {
  const abort = new AbortController();
  let executionId = "";
  await assert.rejects(
    collect(client().stream({ code: THREE_STEPS, inputs: { sleep: 30 } }, { signal: abort.signal }), (e) => {
      if (e.event === "metadata") executionId = e.data.execution_id;
      if (e.event === "node_start" && e.data.node === "slow") abort.abort();
    }),
    (err: unknown) => err instanceof Error && err.name === "AbortError",
  );
  assert.notEqual(executionId, "");
  // The execution's own stream, replayed then followed, ends with the cancel.
  const rest = await collect(client().executions.stream(executionId));
  const last = rest.at(-1)!;
  assert.equal(last.event, "error");
  if (last.event === "error") assert.equal(last.data.error_type, "cancelled");
  assert.equal((await client().executions.get(executionId)).status, "cancelled");
  // An abort before the answer rejects execute() too.
  await assert.rejects(client().execute({ code: ECHO, inputs: HELLO }, { signal: AbortSignal.abort() }), {
    name: "AbortError",
  });
});

test("typed errors: HTTP refusals are GraphboxError with code and errorType; a program's failure resolves, or throws GraphboxExecutionError", async () => {
  await assert.rejects(client().execute({ code: "   " }), (err: unknown) => {
    assert.ok(err instanceof GraphboxError);
    assert.equal(err.status, 400);
    assert.equal(err.code, "GBX_ERR_INVALID_REQUEST");
    assert.equal(err.errorType, "invalid_request");
    assert.match(err.message, /`code` must not be empty/);
    return true;
  });
  await assert.rejects(client().executions.get("no-such-execution"), {
    name: "GraphboxError",
    status: 404,
    code: "GBX_ERR_EXECUTION_NOT_FOUND",
  });
  const failing = { code: programSource("python/09_error.py"), inputs: { value: 11 } };
  const answer = await client().execute(failing);
  assert.equal(answer.status, "error");
  if (answer.status === "error") {
    assert.equal(answer.error_type, "program_error");
    assert.equal(answer.code, "GBX_ERR_PROGRAM");
  }
  for (const attempt of [() => client().executeOrThrow(failing), () => client().runOrThrow(failing)]) {
    await assert.rejects(attempt(), (err: unknown) => {
      assert.ok(err instanceof GraphboxExecutionError);
      assert.equal(err.code, "GBX_ERR_PROGRAM");
      assert.equal(err.errorType, "program_error");
      assert.equal(err.node, "validate");
      assert.match(err.message, /value too large: 11/);
      assert.match(err.traceback ?? "", /<workflow>/);
      assert.ok(err.executionId);
      return true;
    });
  }
  const ok = await client().executeOrThrow({ code: ECHO, inputs: HELLO });
  assert.equal(ok.status, "success");
});

test("apiKey: sent as a bearer token; without it the engine answers GBX_ERR_UNAUTHENTICATED", async () => {
  const key = `client-key-${crypto.randomUUID()}`;
  const guarded = await startEngine(undefined, { apiKeys: { designer: key } });
  try {
    await assert.rejects(new GraphboxClient({ url: guarded.url }).ready(), {
      status: 401,
      code: "GBX_ERR_UNAUTHENTICATED",
    });
    const keyed = new GraphboxClient({ url: guarded.url, apiKey: key });
    assert.equal((await keyed.ready()).status, "ready");
    assert.deepEqual(await new GraphboxClient({ url: guarded.url }).health(), { status: "ok" });
  } finally {
    await guarded.close();
  }
});

test("threads: state and history at a breakpoint, resumed, listed and deleted", async () => {
  const thread = `client-bp-${crypto.randomUUID()}`;
  const c = client();
  const paused = await c.execute({ code: ECHO, inputs: HELLO, config: { thread_id: thread, breakpoints: ["shout"] } });
  assert.equal(paused.status, "interrupted");
  const state = await c.threads.state(thread);
  assert.deepEqual(state.next, ["shout"]);
  assert.equal(state.thread_id, thread);
  assert.equal(state.status, "interrupted");
  assert.equal((state.values as { count: number }).count, 1);
  const history = await c.threads.history(thread);
  assert.equal(history.thread_id, thread);
  assert.ok(history.checkpoints.length > 1);
  assert.equal(history.checkpoints[0]!.checkpoint_id, state.checkpoint_id, "newest first");
  assert.equal((await c.threads.history(thread, { limit: 1 })).checkpoints.length, 1);
  const resumed = await c.execute({ code: ECHO, inputs: null, config: { thread_id: thread } });
  assert.equal(resumed.status, "success");
  if (resumed.status === "success") assert.deepEqual(resumed.result.metadata.nodes_executed, ["shout"]);
  assert.equal((await c.threads.get(thread)).status, "idle");
  assert.deepEqual(
    (await c.threads.list({ ids: [thread] })).map((t) => t.thread_id),
    [thread],
  );
  await c.threads.delete(thread);
  await assert.rejects(c.threads.state(thread), { status: 404, code: "GBX_ERR_THREAD_NOT_FOUND" });
});

test("executions: get and cancel a running execution; its stream ends with the cancel", async () => {
  const c = client();
  let executionId = "";
  let cancelled: Promise<void> | null = null;
  const events = await collect(c.stream({ code: THREE_STEPS, inputs: { sleep: 30 } }), (e) => {
    if (e.event === "metadata") executionId = e.data.execution_id;
    if (e.event === "node_start" && e.data.node === "slow") {
      cancelled = (async () => {
        assert.equal((await c.executions.get(executionId)).status, "running");
        const answer = await c.executions.cancel(executionId);
        assert.equal(answer.cancelled, true);
        assert.equal(answer.execution_id, executionId);
      })();
    }
  });
  assert.ok(cancelled, "the slow node started");
  await cancelled;
  const last = events.at(-1)!;
  assert.equal(last.event, "error");
  if (last.event === "error") assert.equal(last.data.error_type, "cancelled");
  const record = await c.executions.get(executionId);
  assert.equal(record.status, "cancelled");
  assert.equal(record.error_type, "cancelled");
  assert.equal((await c.executions.cancel(executionId)).cancelled, false, "already ended");
});

test("describe: a program's nodes and edges, conditional ones marked, without running it", async () => {
  const echo = await client().describe({ code: ECHO, language: "python" });
  const ids = echo.graph.nodes.map((n) => n.id);
  assert.ok(ids.includes("greet") && ids.includes("shout"), JSON.stringify(ids));
  assert.ok(echo.graph.edges.some((e) => e.source === "greet" && e.target === "shout" && !e.conditional));
  const loop = await client().describe({ code: programSource("python/04_loop.py") });
  assert.ok(
    loop.graph.edges.some((e) => e.conditional),
    JSON.stringify(loop.graph.edges),
  );
  await assert.rejects(client().describe({ code: "x = 1\n", language: "python" }), {
    status: 422,
    code: "GBX_ERR_GRAPH_INVALID",
  });
});
