/**
 * LangGraph's thread routes through the real server: threads created, read, patched, searched,
 * counted and deleted per API key; a thread written by /execute-langgraph read as LangGraph's
 * Thread and ThreadState (Graphbox's fields kept); history and state at a checkpoint from the store.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { AGENT_PROGRAMS, registerProgram } from "./support/agent-programs.ts";
import { programSource } from "./support/corpus.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { waitFor } from "./support/process.ts";
import { readSse } from "./support/sse.ts";

const ALICE = `alice-key-${randomUUID()}`;
const BOB = `bob-key-${randomUUID()}`;
const ECHO = programSource("python/01_echo.py");

type Json = Record<string, unknown>;

let engine: RunningEngine;
before(async () => (engine = await startEngine(undefined, { apiKeys: { alice: ALICE, bob: BOB } })));
after(async () => engine.close());

async function call(
  method: string,
  path: string,
  body?: unknown,
  key = ALICE,
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(engine.url + path, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : JSON.parse(text), headers: response.headers };
}
const json = (answer: { body: unknown }) => answer.body as Json;
const list = (answer: { body: unknown }) => answer.body as Json[];

async function execute(body: Json): Promise<Json> {
  const answer = await engine.post("/execute-langgraph", body, { authorization: `Bearer ${ALICE}` });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

const THREAD_FIELDS = ["config", "created_at", "metadata", "status", "thread_id", "updated_at"];

describe("threads", () => {
  test("create, get, patch: LangGraph's Thread; if_exists raise is a 409, do_nothing answers the thread", async () => {
    const created = await call("POST", "/threads", { metadata: { owner_note: "first", keep: 1 } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const thread = json(created);
    assert.deepEqual(Object.keys(thread).sort(), THREAD_FIELDS, "no values or interrupts before a checkpoint");
    assert.match(String(thread["thread_id"]), /^[0-9a-f-]{36}$/);
    assert.equal(thread["status"], "idle");
    assert.deepEqual(thread["config"], {});
    assert.deepEqual(thread["metadata"], { owner_note: "first", keep: 1 });
    assert.ok(!Number.isNaN(Date.parse(String(thread["created_at"]))));
    const id = String(thread["thread_id"]);

    const again = await call("POST", "/threads", { thread_id: id, metadata: { other: true } });
    assert.equal(again.status, 409);
    assert.equal(json(again)["code"], "GBX_ERR_THREAD_EXISTS");
    const kept = await call("POST", "/threads", { thread_id: id, metadata: { other: true }, if_exists: "do_nothing" });
    assert.equal(kept.status, 200);
    assert.deepEqual(json(kept)["metadata"], { owner_note: "first", keep: 1 }, "do_nothing leaves it as it was");

    const named = await call("POST", "/threads", { thread_id: `my-${id}` });
    assert.equal(json(named)["thread_id"], `my-${id}`);
    assert.deepEqual(json(named)["metadata"], {});

    const patched = await call("PATCH", `/threads/${id}`, { metadata: { owner_note: "second", added: [1] } });
    assert.equal(patched.status, 200);
    assert.deepEqual(json(patched)["metadata"], { owner_note: "second", keep: 1, added: [1] }, "merged, shallow");
    const read = await call("GET", `/threads/${id}`);
    assert.deepEqual(json(read)["metadata"], json(patched)["metadata"]);
    assert.equal(json(read)["created_at"], thread["created_at"]);
    assert.ok(Date.parse(String(json(read)["updated_at"])) >= Date.parse(String(thread["updated_at"])));

    const refused = await call("POST", "/threads", { thread_id: id, if_exists: "maybe" });
    assert.equal(refused.status, 400);
    assert.match(String(json(refused)["error"]), /if_exists/);
    assert.equal((await call("POST", "/threads", { supersteps: [{ updates: [] }] })).status, 400);
  });

  test("search: metadata filter, ids, status, paging newest first, sort_by, select; count", async () => {
    const suite = randomUUID();
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4, 5]) {
      const created = await call("POST", "/threads", {
        thread_id: `search-${suite}-${n}`,
        metadata: { suite, n, odd: n % 2 === 1 },
      });
      ids.push(String(json(created)["thread_id"]));
    }
    const all = await call("POST", "/threads/search", { metadata: { suite } });
    assert.equal(all.status, 200);
    assert.equal(all.headers.get("x-pagination-total"), "5");
    const found = list(all);
    assert.deepEqual(found.map((t) => t["thread_id"]).sort(), [...ids].sort());
    const created = found.map((t) => Date.parse(String(t["created_at"])));
    assert.deepEqual(
      created,
      [...created].sort((a, b) => b - a),
      "newest first by default",
    );
    assert.deepEqual(
      Object.keys(found[0]!).sort(),
      THREAD_FIELDS,
      "threads without checkpoints have no values or interrupts",
    );

    // Pages that add up to the whole, in one order.
    const byId = async (offset: number, order: "asc" | "desc") =>
      list(
        await call("POST", "/threads/search", {
          metadata: { suite },
          sort_by: "thread_id",
          sort_order: order,
          limit: 2,
          offset,
        }),
      ).map((t) => t["thread_id"]);
    const pages = [...(await byId(0, "asc")), ...(await byId(2, "asc")), ...(await byId(4, "asc"))];
    assert.deepEqual(pages, [...ids].sort());
    assert.deepEqual(await byId(0, "desc"), [...ids].sort().reverse().slice(0, 2));
    // The headers as LangGraph's JS server computes them: offset + every match, one more and a
    // next offset when the matches fill exactly one page.
    const second = await call("POST", "/threads/search", { metadata: { suite }, limit: 2, offset: 2 });
    assert.equal(second.headers.get("x-pagination-total"), "7");
    assert.equal(second.headers.get("x-pagination-next"), null);
    const full = await call("POST", "/threads/search", { metadata: { suite }, limit: 5 });
    assert.equal(full.headers.get("x-pagination-total"), "6");
    assert.equal(full.headers.get("x-pagination-next"), "5");

    const odd = list(await call("POST", "/threads/search", { metadata: { suite, odd: true } }));
    assert.deepEqual(odd.map((t) => (t["metadata"] as Json)["n"]).sort(), [1, 3, 5]);
    const some = list(await call("POST", "/threads/search", { ids: [ids[0], ids[4]], metadata: { suite } }));
    assert.equal(some.length, 2);
    assert.equal(list(await call("POST", "/threads/search", { metadata: { suite }, status: "error" })).length, 0);
    const selected = list(
      await call("POST", "/threads/search", { metadata: { suite }, select: ["thread_id", "status"] }),
    );
    assert.deepEqual(Object.keys(selected[0]!).sort(), ["status", "thread_id"]);

    assert.equal((await call("POST", "/threads/count", { metadata: { suite } })).body, 5);
    assert.equal((await call("POST", "/threads/count", { metadata: { suite, odd: false } })).body, 2);
    assert.equal((await call("POST", "/threads/count", { metadata: { suite }, status: "idle" })).body, 5);
    assert.equal((await call("POST", "/threads/search", { limit: 0 })).status, 400);
  });

  test("another API key finds none of them: 404 on every route, not in its search", async () => {
    const id = String(json(await call("POST", "/threads", { metadata: { secret: true } }))["thread_id"]);
    for (const [method, path, body] of [
      ["GET", `/threads/${id}`],
      ["PATCH", `/threads/${id}`, { metadata: { taken: true } }],
      ["GET", `/threads/${id}/state`],
      ["GET", `/threads/${id}/state/${randomUUID()}`],
      ["POST", `/threads/${id}/state/checkpoint`, { checkpoint: { checkpoint_id: randomUUID() } }],
      ["POST", `/threads/${id}/state`, { values: { x: 1 } }],
      ["POST", `/threads/${id}/history`, {}],
      ["GET", `/threads/${id}/history`],
      ["DELETE", `/threads/${id}`],
    ] as const) {
      const answer = await call(method, path, body, BOB);
      assert.equal(answer.status, 404, `${method} ${path}`);
      assert.equal(json(answer)["code"], "GBX_ERR_THREAD_NOT_FOUND");
    }
    assert.equal(list(await call("POST", "/threads/search", { metadata: { secret: true } }, BOB)).length, 0);
    assert.equal((await call("POST", "/threads/count", { metadata: { secret: true } }, BOB)).body, 0);
    // Bob's thread of the same id is his own.
    const his = await call("POST", "/threads", { thread_id: id }, BOB);
    assert.equal(his.status, 200);
    assert.deepEqual(json(his)["metadata"], {});
    assert.deepEqual(json(await call("GET", `/threads/${id}`))["metadata"], { secret: true });
  });
});

/** Asks for approval with interrupt() after one step: the thread ends interrupted. */
const INTERRUPTING = `from typing import TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.types import interrupt

class State(TypedDict, total=False):
    n: int
    approved: bool

def first(state):
    return {"n": state["n"] + 1}

def ask(state):
    return {"approved": interrupt({"question": "approve?", "n": state["n"]}) == "yes"}

workflow = StateGraph(State)
workflow.add_node("first", first)
workflow.add_node("ask", ask)
workflow.add_edge(START, "first")
workflow.add_edge("first", "ask")
workflow.add_edge("ask", END)
app = workflow.compile()
`;

describe("a thread written by /execute-langgraph", () => {
  test("GET /threads/{id}: its status, head values and interrupts by task", async () => {
    const thread = `exec-${randomUUID()}`;
    const answer = await execute({ code: INTERRUPTING, inputs: { n: 1 }, config: { thread_id: thread } });
    assert.equal(answer["status"], "interrupted");
    const read = json(await call("GET", `/threads/${thread}`));
    assert.equal(read["status"], "interrupted");
    assert.deepEqual(read["values"], { n: 2 });
    assert.deepEqual(read["metadata"], {});
    const interrupts = read["interrupts"] as Record<string, Json[]>;
    const [taskId, waiting] = Object.entries(interrupts)[0] ?? [];
    assert.match(String(taskId), /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      waiting?.map((i) => i["value"]),
      [{ question: "approve?", n: 2 }],
    );

    const done = await execute({ code: INTERRUPTING, inputs: null, resume: "yes", config: { thread_id: thread } });
    assert.equal(done["status"], "success");
    const finished = json(await call("GET", `/threads/${thread}`));
    assert.equal(finished["status"], "idle");
    assert.deepEqual(finished["values"], { n: 2, approved: true });
    assert.deepEqual(finished["interrupts"], {});
  });

  test("search by values: the head's values contain them", async () => {
    const suite = randomUUID();
    for (const n of [1, 5]) {
      const thread = `values-${suite}-${n}`;
      await execute({ code: INTERRUPTING, inputs: { n }, config: { thread_id: thread } });
      await call("PATCH", `/threads/${thread}`, { metadata: { suite } });
    }
    const six = list(await call("POST", "/threads/search", { metadata: { suite }, values: { n: 6 } }));
    assert.deepEqual(
      six.map((t) => t["thread_id"]),
      [`values-${suite}-5`],
    );
    assert.equal((await call("POST", "/threads/count", { metadata: { suite }, values: { n: 2 } })).body, 1);
    assert.equal((await call("POST", "/threads/count", { metadata: { suite }, values: { n: 3 } })).body, 0);
  });

  test("GET /threads/{id}/state: LangGraph's ThreadState with Graphbox's fields", async () => {
    const thread = `exec-${randomUUID()}`;
    const answer = await execute({ code: INTERRUPTING, inputs: { n: 1 }, config: { thread_id: thread } });
    const metadata = (answer["result"] as { metadata: Json }).metadata;
    const state = json(await call("GET", `/threads/${thread}/state`));
    // Graphbox's fields, as before.
    assert.equal(state["thread_id"], thread);
    assert.equal(state["runtime"], "python");
    assert.equal(state["status"], "interrupted");
    assert.equal(state["checkpoint_id"], metadata["checkpoint_id"]);
    assert.deepEqual(state["interrupts"], metadata["interrupts"]);
    assert.ok(!Number.isNaN(Date.parse(String(state["updated_at"]))));
    // LangGraph's.
    assert.deepEqual(state["values"], { n: 2 });
    assert.deepEqual(state["next"], ["ask"]);
    assert.deepEqual(state["checkpoint"], {
      thread_id: thread,
      checkpoint_ns: "",
      checkpoint_id: metadata["checkpoint_id"],
      checkpoint_map: null,
    });
    assert.equal((state["parent_checkpoint"] as Json)["thread_id"], thread);
    assert.equal((state["metadata"] as Json)["step"], 1);
    assert.ok(!Number.isNaN(Date.parse(String(state["created_at"]))));
    const tasks = state["tasks"] as Json[];
    assert.equal(tasks.length, 1);
    assert.equal(tasks[0]!["name"], "ask");
    assert.deepEqual(
      (tasks[0]!["interrupts"] as Json[]).map((i) => i["value"]),
      [{ question: "approve?", n: 2 }],
    );
    for (const field of ["id", "path", "error", "checkpoint", "state", "result"]) assert.ok(field in tasks[0]!, field);
  });

  test("history: Graphbox's GET unchanged; LangGraph's POST with limit, before, a metadata filter, a checkpoint", async () => {
    const thread = `exec-${randomUUID()}`;
    await execute({
      code: ECHO,
      inputs: { messages: [{ role: "user", content: "Hello" }] },
      config: { thread_id: thread },
    });

    const graphbox = json(await call("GET", `/threads/${thread}/history`));
    assert.deepEqual(Object.keys(graphbox).sort(), ["checkpoints", "thread_id"]);
    const checkpoints = graphbox["checkpoints"] as Json[];
    assert.deepEqual(
      checkpoints.map((c) => c["step"]),
      [2, 1, 0, -1],
    );
    assert.deepEqual(Object.keys(checkpoints[0]!).sort(), [
      "checkpoint_id",
      "created_at",
      "metadata",
      "parent_checkpoint_id",
      "source",
      "step",
      "values",
    ]);

    const history = await call("POST", `/threads/${thread}/history`, {});
    assert.equal(history.status, 200);
    const states = list(history);
    assert.deepEqual(
      states.map((s) => (s["checkpoint"] as Json)["checkpoint_id"]),
      checkpoints.map((c) => c["checkpoint_id"]),
    );
    assert.deepEqual(
      states.map((s) => (s["values"] as Json)["count"] ?? null),
      [2, 1, null, null],
    );
    assert.deepEqual(states[0]!["next"], []);
    assert.equal(
      (states[1]!["parent_checkpoint"] as Json)["checkpoint_id"],
      (states[2]!["checkpoint"] as Json)["checkpoint_id"],
    );

    const limited = list(await call("POST", `/threads/${thread}/history`, { limit: 2 }));
    assert.equal(limited.length, 2);
    const older = list(
      await call("POST", `/threads/${thread}/history`, {
        before: { configurable: { checkpoint_id: checkpoints[1]!["checkpoint_id"] } },
      }),
    );
    assert.deepEqual(
      older.map((s) => (s["metadata"] as Json)["step"]),
      [0, -1],
    );
    const byId = list(await call("POST", `/threads/${thread}/history`, { before: checkpoints[2]!["checkpoint_id"] }));
    assert.deepEqual(
      byId.map((s) => (s["metadata"] as Json)["step"]),
      [-1],
    );
    for (const before of [42, [], { configurable: {} }, ""]) {
      const refused = await call("POST", `/threads/${thread}/history`, { before });
      assert.equal(refused.status, 400, JSON.stringify(before));
      assert.match(String(json(refused)["error"]), /`before`/);
    }
    const loops = list(await call("POST", `/threads/${thread}/history`, { metadata: { source: "loop", step: 1 } }));
    assert.deepEqual(
      loops.map((s) => (s["checkpoint"] as Json)["checkpoint_id"]),
      [checkpoints[1]!["checkpoint_id"]],
    );
    const one = list(
      await call("POST", `/threads/${thread}/history`, {
        checkpoint: { checkpoint_id: checkpoints[2]!["checkpoint_id"] },
      }),
    );
    assert.deepEqual(
      one.map((s) => (s["metadata"] as Json)["step"]),
      [0],
    );
  });

  test("state at a checkpoint; changing it needs a registered program (400)", async () => {
    const thread = `exec-${randomUUID()}`;
    await execute({
      code: ECHO,
      inputs: { messages: [{ role: "user", content: "Hello" }] },
      config: { thread_id: thread },
    });
    const checkpoints = json(await call("GET", `/threads/${thread}/history`))["checkpoints"] as Json[];
    const afterGreet = String(checkpoints[1]!["checkpoint_id"]);

    const at = json(await call("GET", `/threads/${thread}/state/${afterGreet}`));
    assert.equal((at["values"] as Json)["count"], 1);
    assert.equal((at["checkpoint"] as Json)["checkpoint_id"], afterGreet);
    assert.equal((at["metadata"] as Json)["step"], 1);
    assert.ok(!("thread_id" in at), "Graphbox's fields are GET /threads/{id}/state's only");
    const posted = json(
      await call("POST", `/threads/${thread}/state/checkpoint`, { checkpoint: { checkpoint_id: afterGreet } }),
    );
    assert.deepEqual(posted, at);
    const head = json(await call("POST", `/threads/${thread}/state/checkpoint`, { checkpoint: {} }));
    assert.equal((head["values"] as Json)["count"], 2);
    const missing = json(await call("GET", `/threads/${thread}/state/${randomUUID()}`));
    assert.deepEqual(missing["values"], {}, "a checkpoint the thread does not have is empty, as LangGraph answers it");

    const malformed = await call("POST", `/threads/${thread}/state`, { values: "count", as_node: "greet" });
    assert.equal(malformed.status, 400);
    assert.match(String(json(malformed)["error"]), /`values`/);
    const update = await call("POST", `/threads/${thread}/state`, { values: { count: 9 }, as_node: "greet" });
    assert.equal(update.status, 400, "as LangGraph's server refuses a thread without a graph");
    assert.equal(json(update)["code"], "GBX_ERR_THREAD_NO_PROGRAM");
    assert.match(String(json(update)["error"]), /no registered program/);
    // Nothing changed.
    assert.equal((json(await call("GET", `/threads/${thread}/state`))["values"] as Json)["count"], 2);
  });
});

/** Sleeps in its second node as long as the input says. */
const SLOW = `import time
from typing import TypedDict
from langgraph.graph import StateGraph, START, END

class State(TypedDict, total=False):
    sleep: float
    log: list

def first(state):
    return {"log": ["first"]}

def slow(state):
    time.sleep(state["sleep"])
    return {"log": ["slow"]}

workflow = StateGraph(State)
workflow.add_node("first", first)
workflow.add_node("slow", slow)
workflow.add_edge(START, "first")
workflow.add_edge("first", "slow")
workflow.add_edge("slow", END)
app = workflow.compile()
`;

describe("delete", () => {
  test("a thread goes with its checkpoints; a run on it is cancelled first; busy while it runs", async () => {
    const thread = `delete-${randomUUID()}`;
    let slowStarted!: () => void;
    const started = new Promise<void>((resolve) => (slowStarted = resolve));
    const streaming = readSse(`${engine.url}/execute-langgraph/stream`, {
      body: { code: SLOW, inputs: { sleep: 60 }, config: { thread_id: thread } },
      headers: { authorization: `Bearer ${ALICE}` },
      onEvent: (event) => {
        if (event.event === "node_start" && event.data["node"] === "slow") slowStarted();
      },
    });
    await started;
    assert.equal(json(await call("GET", `/threads/${thread}`))["status"], "busy");

    const deleted = await call("DELETE", `/threads/${thread}`);
    assert.equal(deleted.status, 204);
    assert.equal(deleted.body, null);
    const ended = (await streaming).events.at(-1)!;
    assert.equal(ended.event, "error");
    assert.equal(ended.data["error_type"], "cancelled");

    assert.equal((await call("GET", `/threads/${thread}`)).status, 404);
    assert.equal((await call("GET", `/threads/${thread}/history`)).status, 404);
    assert.equal((await call("DELETE", `/threads/${thread}`)).status, 404);
    // Its id starts afresh: nothing of the old thread is left to continue from.
    const fresh = await engine.post(
      "/execute-langgraph",
      { code: SLOW, inputs: null, config: { thread_id: thread } },
      { authorization: `Bearer ${ALICE}` },
    );
    assert.equal(fresh.status, 400);
    assert.equal(fresh.body["code"], "GBX_ERR_NOTHING_TO_CONTINUE");
  });
});

/** Two steps; `first` counts, `second` logs. Its state is LangGraph's to compute: next, tasks. */
const COUNTER = `import operator
from typing import Annotated, TypedDict
from langgraph.graph import StateGraph, START, END

class State(TypedDict, total=False):
    n: int
    log: Annotated[list, operator.add]

def first(state):
    return {"n": state.get("n", 0) + 1, "log": ["first"]}

def second(state):
    return {"log": ["second"]}

builder = StateGraph(State)
builder.add_node("first", first)
builder.add_node("second", second)
builder.add_edge(START, "first")
builder.add_edge("first", "second")
builder.add_edge("second", END)
graph = builder.compile()
`;

describe("a thread of a registered program", () => {
  const graphId = `counter-${randomUUID()}`;
  before(async () => {
    const registered = await call("PUT", `/graphs/${graphId}`, { code: COUNTER, language: "python" });
    assert.equal(registered.status, 200, JSON.stringify(registered.body));
  });
  const newThread = async () => {
    const created = await call("POST", "/threads", { metadata: { graph_id: graphId } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    return String(json(created)["thread_id"]);
  };
  const update = async (thread: string, body: Json) => {
    const answer = await call("POST", `/threads/${thread}/state`, body);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const checkpoint = json(answer)["checkpoint"] as Json;
    assert.deepEqual(Object.keys(checkpoint).sort(), ["checkpoint_id", "checkpoint_ns", "thread_id"]);
    assert.equal(checkpoint["thread_id"], thread);
    return String(checkpoint["checkpoint_id"]);
  };

  test("update_state as a node; state at a checkpoint computed by the program; history filtered by metadata", async () => {
    const thread = await newThread();
    const empty = json(await call("GET", `/threads/${thread}/state`));
    assert.deepEqual([empty["values"], empty["next"], empty["checkpoint"]], [{}, [], null]);
    assert.ok(!("metadata" in empty), "no metadata before a checkpoint, as LangGraph's server answers");

    const asFirst = await update(thread, { values: { n: 1, log: ["set"] }, as_node: "first" });
    const asSecond = await update(thread, { values: { log: ["more"] }, as_node: "second" });

    const head = json(await call("GET", `/threads/${thread}/state`));
    assert.deepEqual(head["values"], { n: 1, log: ["set", "more"] });
    assert.deepEqual(head["next"], [], "after `second` the graph ends");
    assert.equal((head["checkpoint"] as Json)["checkpoint_id"], asSecond);
    assert.equal(head["checkpoint_id"], asSecond);
    assert.equal(head["runtime"], "python", "the thread took its program's runtime");
    assert.equal((head["metadata"] as Json)["source"], "update");

    // The program says what comes next at an earlier checkpoint: `second`, after `first`.
    const earlier = json(await call("GET", `/threads/${thread}/state/${asFirst}`));
    assert.deepEqual(earlier["values"], { n: 1, log: ["set"] });
    assert.deepEqual(earlier["next"], ["second"]);
    assert.deepEqual(
      (earlier["tasks"] as Json[]).map((t) => t["name"]),
      ["second"],
    );
    assert.deepEqual(
      json(await call("POST", `/threads/${thread}/state/checkpoint`, { checkpoint: { checkpoint_id: asFirst } })),
      earlier,
    );

    const history = list(await call("POST", `/threads/${thread}/history`, {}));
    assert.deepEqual(history.map((s) => (s["checkpoint"] as Json)["checkpoint_id"]).slice(0, 2), [asSecond, asFirst]);
    const updates = list(await call("POST", `/threads/${thread}/history`, { metadata: { source: "update", step: 1 } }));
    assert.deepEqual(
      updates.map((s) => (s["checkpoint"] as Json)["checkpoint_id"]),
      [asSecond],
    );
    assert.deepEqual(
      list(await call("POST", `/threads/${thread}/history`, { limit: 1 })).map(
        (s) => (s["checkpoint"] as Json)["checkpoint_id"],
      ),
      [asSecond],
    );
    // Graphbox's GET history lists the same checkpoints.
    const graphbox = json(await call("GET", `/threads/${thread}/history`))["checkpoints"] as Json[];
    assert.deepEqual(
      graphbox.map((c) => c["checkpoint_id"]),
      history.map((s) => (s["checkpoint"] as Json)["checkpoint_id"]),
    );
  });

  test("update_state from an earlier checkpoint forks the thread there", async () => {
    const thread = await newThread();
    const asFirst = await update(thread, { values: { n: 1 }, as_node: "first" });
    await update(thread, { values: { log: ["main line"] }, as_node: "second" });
    const fork = await update(thread, { values: { n: 10 }, as_node: "first", checkpoint_id: asFirst });

    const head = json(await call("GET", `/threads/${thread}/state`));
    assert.equal(head["checkpoint_id"], fork);
    assert.equal(
      (head["parent_checkpoint"] as Json)["checkpoint_id"],
      asFirst,
      "the fork branches from the checkpoint",
    );
    assert.deepEqual(head["values"], { n: 10, log: [] }, "the main line's log is not on the fork");
    assert.deepEqual(head["next"], ["second"]);
    const read = json(await call("GET", `/threads/${thread}`));
    assert.equal((read["values"] as Json)["n"], 10, "the thread's values are the fork's");
  });

  test("state updates: refused while a run holds the thread; a program's refusal is a 4xx naming it", async () => {
    const thread = await newThread();
    let slowStarted!: () => void;
    const started = new Promise<void>((resolve) => (slowStarted = resolve));
    const streaming = readSse(`${engine.url}/execute-langgraph/stream`, {
      body: { code: SLOW, inputs: { sleep: 60 }, config: { thread_id: thread } },
      headers: { authorization: `Bearer ${ALICE}` },
      onEvent: (event) => {
        if (event.event === "node_start" && event.data["node"] === "slow") slowStarted();
      },
    });
    await started;
    const busy = await call("POST", `/threads/${thread}/state`, { values: { n: 1 }, as_node: "first" });
    assert.equal(busy.status, 409);
    assert.equal(json(busy)["code"], "GBX_ERR_THREAD_BUSY");
    assert.equal((await call("DELETE", `/threads/${thread}`)).status, 204);
    assert.equal((await streaming).events.at(-1)!.data["error_type"], "cancelled");

    const other = await newThread();
    const unknown = await call("POST", `/threads/${other}/state`, { values: { n: 1 }, as_node: "nowhere" });
    assert.ok(unknown.status >= 400 && unknown.status < 500, JSON.stringify(unknown.body));
    assert.match(String(json(unknown)["error"]), /nowhere/);
  });
});

describe("the run queue", () => {
  test("a queued run whose thread /execute-langgraph holds goes back to the queue, then runs once it is free", async () => {
    const graphId = `queue-${randomUUID().slice(0, 8)}`;
    await registerProgram({ url: engine.url, key: ALICE, graphId, ...AGENT_PROGRAMS["py-slow"] });
    const threadId = `queued-${randomUUID()}`;
    const auth = { authorization: `Bearer ${ALICE}` };
    // /execute-langgraph holds the thread for about 2 s (py-slow sleeps `n` seconds).
    const held = engine.post(
      "/execute-langgraph",
      { code: AGENT_PROGRAMS["py-slow"].code, inputs: { n: 2 }, config: { thread_id: threadId } },
      auth,
    );
    await waitFor(async () => (json(await call("GET", `/threads/${threadId}`))["status"] === "busy" ? true : null));
    // A run waiting in the queue for any engine, as one accepted by an engine that died would.
    const queued = await engine.app.store.runs.create({
      owner: "alice",
      runId: randomUUID(),
      threadId,
      assistantId: graphId,
      status: "pending",
      metadata: {},
      multitaskStrategy: "enqueue",
      kwargs: { assistant_id: graphId, input: { n: 0 } },
    });
    // The dispatcher takes it, cannot start it (the thread is busy), and puts it back: still pending.
    const tried = await waitFor(async () => {
      const run = await engine.app.store.runs.get("alice", queued.runId);
      return run && run.updatedAt > queued.updatedAt && run.engineId === null ? run : null;
    });
    assert.equal(tried.status, "pending");
    assert.equal((await held).body["status"], "success");
    const joined = await call("GET", `/threads/${threadId}/runs/${queued.runId}/join`);
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.deepEqual(joined.body, { n: 1 });
    const run = await engine.app.store.runs.get("alice", queued.runId);
    assert.equal(run?.status, "success");
    assert.equal(run?.engineId, engine.app.engine.engineId, "claimed by this engine when it ran");
  });
});
