/**
 * A subgraph's state by its namespace, through the real server: a task paused inside a subgraph
 * names `{thread_id, checkpoint_ns}`; that checkpoint reads, updates and lists the subgraph's own
 * state (two levels deep here, `outer:<task>|inner:<task>`); a namespace not of LangGraph's
 * `name:task_id|...` shape is refused at the edge. (The one-level case in both runtimes is
 * agent-ported.test.ts › subgraphs.)
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { startEngine, type RunningEngine } from "./support/engine.ts";

const KEY = `subgraph-key-${randomUUID()}`;

type Json = Record<string, unknown>;

let engine: RunningEngine;
before(async () => (engine = await startEngine(undefined, { apiKeys: { subgraphs: KEY } })));
after(async () => engine.close());

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const response = await fetch(engine.url + path, {
    method,
    headers: {
      authorization: `Bearer ${KEY}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : JSON.parse(text) };
}
async function ok(method: string, path: string, body?: unknown): Promise<unknown> {
  const answer = await call(method, path, body);
  assert.equal(answer.status, 200, `${method} ${path}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}
const tasksOf = (state: unknown): Json[] => (state as { tasks: Json[] }).tasks;

// The innermost graph stops before `shout`: the pause is two subgraphs down.
const NESTED = `
from typing import TypedDict
from langgraph.graph import END, START, StateGraph

class State(TypedDict, total=False):
    word: str
    out: str

def pick(state):
    return {"word": "quiet"}

def shout(state):
    return {"out": state["word"].upper()}

inner = StateGraph(State)
inner.add_node("pick", pick)
inner.add_node("shout", shout)
inner.add_edge(START, "pick")
inner.add_edge("pick", "shout")
inner.add_edge("shout", END)

outer = StateGraph(State)
outer.add_node("inner", inner.compile(interrupt_before=["shout"]))
outer.add_edge(START, "inner")
outer.add_edge("inner", END)

root = StateGraph(State)
root.add_node("outer", outer.compile())
root.add_edge(START, "outer")
root.add_edge("outer", END)
graph = root.compile()
`;

describe("a subgraph's state by its checkpoint_ns", () => {
  const graphId = `nested-${randomUUID()}`;
  before(async () => {
    await ok("PUT", `/graphs/${graphId}`, { code: NESTED, language: "python" });
  });

  test("read, update and list a nested subgraph's state; the run resumes from the update", async () => {
    const thread = String(((await ok("POST", "/threads", {})) as Json)["thread_id"]);
    await ok("POST", `/threads/${thread}/runs/wait`, { assistant_id: graphId, input: {} });

    const root = await ok("GET", `/threads/${thread}/state`);
    assert.deepEqual((root as Json)["next"], ["outer"]);
    const outerRef = tasksOf(root)[0]?.["checkpoint"] as Json;
    assert.deepEqual(Object.keys(outerRef), ["thread_id", "checkpoint_ns"]);
    assert.equal(outerRef["thread_id"], thread);
    assert.match(String(outerRef["checkpoint_ns"]), /^outer:[0-9a-f-]{36}$/);

    const outer = await ok("POST", `/threads/${thread}/state/checkpoint`, { checkpoint: outerRef });
    assert.deepEqual((outer as Json)["next"], ["inner"]);
    const innerRef = tasksOf(outer)[0]?.["checkpoint"] as Json;
    assert.match(String(innerRef["checkpoint_ns"]), /^outer:[0-9a-f-]{36}\|inner:[0-9a-f-]{36}$/);

    const inner = (await ok("POST", `/threads/${thread}/state/checkpoint`, { checkpoint: innerRef })) as Json;
    assert.deepEqual(inner["values"], { word: "quiet" });
    assert.deepEqual(inner["next"], ["shout"]);
    assert.equal((inner["checkpoint"] as Json)["checkpoint_ns"], innerRef["checkpoint_ns"]);

    const updated = (await ok("POST", `/threads/${thread}/state`, {
      values: { word: "loud" },
      checkpoint: innerRef,
    })) as { checkpoint: Json };
    assert.equal(updated.checkpoint["checkpoint_ns"], innerRef["checkpoint_ns"]);
    const after = (await ok("POST", `/threads/${thread}/state/checkpoint`, { checkpoint: innerRef })) as Json;
    assert.deepEqual(after["values"], { word: "loud" });
    assert.equal((after["checkpoint"] as Json)["checkpoint_id"], updated.checkpoint["checkpoint_id"]);
    // The root's head is the one the run left: the update went to the subgraph only.
    assert.deepEqual(
      ((await ok("GET", `/threads/${thread}/state`)) as Json)["checkpoint"],
      (root as Json)["checkpoint"],
    );

    const history = (await ok("POST", `/threads/${thread}/history`, { checkpoint: innerRef })) as Json[];
    assert.deepEqual(
      history.map((s) => [s["values"], s["next"], (s["metadata"] as Json)["source"]]),
      [
        [{ word: "loud" }, ["shout"], "update"],
        [{ word: "quiet" }, ["shout"], "loop"],
        [{}, ["pick"], "loop"],
        [{}, ["__start__"], "input"],
      ],
    );
    assert.ok(history.every((s) => (s["checkpoint"] as Json)["checkpoint_ns"] === innerRef["checkpoint_ns"]));

    const done = (await ok("POST", `/threads/${thread}/runs/wait`, { assistant_id: graphId, input: null })) as Json;
    assert.deepEqual(done, { word: "loud", out: "LOUD" });
  });

  test("a checkpoint_ns not of LangGraph's name:task_id|... shape is a 400 on every route that takes one", async () => {
    const thread = String(((await ok("POST", "/threads", { metadata: { graph_id: graphId } })) as Json)["thread_id"]);
    const bad = ["outer", "outer:", ":task", "outer:a:b", "outer:a|", "outer:a||inner:b", `outer:${"x".repeat(4096)}`];
    for (const ns of bad) {
      const checkpoint = { thread_id: thread, checkpoint_ns: ns };
      for (const [path, body] of [
        [`/threads/${thread}/state/checkpoint`, { checkpoint }],
        [`/threads/${thread}/state`, { values: { word: "x" }, checkpoint }],
        [`/threads/${thread}/history`, { checkpoint }],
      ] as const) {
        const answer = await call("POST", path, body);
        assert.equal(answer.status, 400, `${path} ${ns.slice(0, 40)}: ${JSON.stringify(answer.body)}`);
        assert.equal((answer.body as Json)["code"], "GBX_ERR_INVALID_REQUEST");
      }
    }
  });
});
