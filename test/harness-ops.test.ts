/**
 * The harness's side of LangGraph's Agent API, in both runtimes, each job in a real sandbox with a
 * real store behind its checkpoint requests (support/harness-jobs.ts): a run's raw `chunk`s of the
 * stream modes it asked for (and none other), a Command with `resume` and `update`, the run's
 * metadata in its checkpoints, the `state`, `history`, `update_state` and `describe` ops, the head's
 * ThreadState in a run's result; and the engine's parser refusing a forged chunk.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { readFileSync } from "node:fs";
import { join } from "node:path";

import { SOURCE_ROOT } from "../src/contract/paths.ts";
import {
  CHUNK_MODES,
  defaultRunConfig,
  parseHarnessMessage,
  ProtocolError,
} from "../src/contract/protocol/messages.ts";
import {
  answerOf,
  resultOf,
  startHarnessRig,
  type HarnessRig,
  type JobOutcome,
  type Runtime,
} from "./support/harness-jobs.ts";

type Json = Record<string, unknown>;

let rig: HarnessRig;
before(async () => (rig = await startHarnessRig()));
after(async () => rig.close());

/** One program per runtime for each case: the same graph, node for node. */
interface Programs {
  /** ask (an LLM call and a custom event) → child (a subgraph whose node `inner` writes `log`). */
  stream: string;
  /** step (x + 1) → review (a subgraph whose node `ask_human` interrupts with a question). */
  review: string;
  /** From START, `route` picks `big` or `small` (conditional edges). */
  branches: string;
  /** ok (x + 1) → boom, which raises "boom: this node always fails". */
  failing: string;
}

const PROGRAMS: Record<Runtime, Programs> = {
  python: {
    stream: `from typing import Annotated, TypedDict
from langchain_openai import ChatOpenAI
from langgraph.config import get_stream_writer
from langgraph.graph import StateGraph, START, END
from langgraph.graph.message import add_messages


class State(TypedDict, total=False):
    messages: Annotated[list, add_messages]
    log: list


llm = ChatOpenAI(model="gpt-4o-mini")


def ask(state):
    get_stream_writer()({"progress": "asking"})
    return {"messages": [llm.invoke(state["messages"])]}


child = StateGraph(State).add_node("inner", lambda s: {"log": [f"inner saw {len(s['messages'])}"]})
child.add_edge(START, "inner")
builder = StateGraph(State).add_node("ask", ask).add_node("child", child.compile())
builder.add_edge(START, "ask").add_edge("ask", "child").add_edge("child", END)
app = builder.compile()
`,
    review: `from typing import TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.types import interrupt


class State(TypedDict, total=False):
    x: int
    note: str
    answer: str


def ask_human(state):
    return {"answer": interrupt({"question": f"approve {state['x']}?"})}


review = StateGraph(State).add_node("ask_human", ask_human)
review.add_edge(START, "ask_human")
builder = StateGraph(State).add_node("step", lambda s: {"x": s.get("x", 0) + 1}).add_node("review", review.compile())
builder.add_edge(START, "step").add_edge("step", "review").add_edge("review", END)
app = builder.compile()
`,
    // typing_extensions': pydantic derives no schema from typing.TypedDict before Python 3.12 (nor does LangGraph's server).
    branches: `from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START, END


class State(TypedDict, total=False):
    x: int
    label: str


def route(state):
    return "big" if state.get("x", 0) > 10 else "small"


builder = StateGraph(State).add_node("big", lambda s: {"label": "big"}).add_node("small", lambda s: {"label": "small"})
builder.add_conditional_edges(START, route, ["big", "small"])
builder.add_edge("big", END).add_edge("small", END)
app = builder.compile()
`,
    failing: `from typing import TypedDict
from langgraph.graph import StateGraph, START, END


class State(TypedDict, total=False):
    x: int


def boom(state):
    raise ValueError("boom: this node always fails")


builder = StateGraph(State).add_node("ok", lambda s: {"x": s.get("x", 0) + 1}).add_node("boom", boom)
builder.add_edge(START, "ok").add_edge("ok", "boom").add_edge("boom", END)
app = builder.compile()
`,
  },
  js: {
    stream: `import { StateGraph, START, END, Annotation, MessagesAnnotation, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { ChatOpenAI } from "@langchain/openai";

const State = Annotation.Root({ ...MessagesAnnotation.spec, log: Annotation<string[]>() });
const llm = new ChatOpenAI({ model: "gpt-4o-mini" });
const child = new StateGraph(State)
  .addNode("inner", (s) => ({ log: [\`inner saw \${s.messages.length}\`] }))
  .addEdge(START, "inner")
  .compile();
export const app = new StateGraph(State)
  .addNode("ask", async (s, config: LangGraphRunnableConfig) => {
    config.writer?.({ progress: "asking" });
    return { messages: [await llm.invoke(s.messages)] };
  })
  .addNode("child", child)
  .addEdge(START, "ask").addEdge("ask", "child").addEdge("child", END)
  .compile();
`,
    review: `import { StateGraph, START, END, Annotation, interrupt } from "@langchain/langgraph";

const State = Annotation.Root({ x: Annotation<number>(), note: Annotation<string>(), answer: Annotation<string>() });
const review = new StateGraph(State)
  .addNode("ask_human", (s) => ({ answer: interrupt({ question: \`approve \${s.x}?\` }) }))
  .addEdge(START, "ask_human")
  .compile();
export const app = new StateGraph(State)
  .addNode("step", (s) => ({ x: (s.x ?? 0) + 1 }))
  .addNode("review", review)
  .addEdge(START, "step").addEdge("step", "review").addEdge("review", END)
  .compile();
`,
    // A zod state: LangGraph.js derives JSON Schemas from it at run time (an Annotation state has none).
    branches: `import { StateGraph, START, END } from "@langchain/langgraph";
import { z } from "zod";

const State = z.object({ x: z.number().optional(), label: z.string().optional() });
export const app = new StateGraph(State)
  .addNode("big", () => ({ label: "big" }))
  .addNode("small", () => ({ label: "small" }))
  .addConditionalEdges(START, (s) => ((s.x ?? 0) > 10 ? "big" : "small"), ["big", "small"])
  .addEdge("big", END).addEdge("small", END)
  .compile();
`,
    failing: `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";

const State = Annotation.Root({ x: Annotation<number>() });
export const app = new StateGraph(State)
  .addNode("ok", (s) => ({ x: (s.x ?? 0) + 1 }))
  .addNode("boom", () => {
    throw new Error("boom: this node always fails");
  })
  .addEdge(START, "ok").addEdge("ok", "boom").addEdge("boom", END)
  .compile();
`,
  },
};

const REPLY = "Hello from the stand-in! You said: hi there";
const newThread = (): string => crypto.randomUUID();
const record = (value: unknown): Json => {
  assert.ok(typeof value === "object" && value !== null && !Array.isArray(value), JSON.stringify(value));
  return value as Json;
};
const list = (value: unknown): unknown[] => {
  assert.ok(Array.isArray(value), JSON.stringify(value));
  return value;
};
const types = (outcome: JobOutcome): string[] => outcome.messages.map((m) => m.type);

for (const runtime of ["python", "js"] as const) {
  const programs = PROGRAMS[runtime];
  const language = runtime === "python" ? "python" : "typescript";

  describe(`${runtime} harness`, () => {
    test("a run forwards the chunks of the modes it asked for, subgraphs' with their namespace, and no others", async () => {
      const threadId = newThread();
      const outcome = await rig.run(runtime, {
        code: programs.stream,
        language,
        thread_id: threadId,
        inputs: { messages: [{ role: "user", content: "hi there" }] },
        stream_modes: ["values", "updates", "messages", "custom"],
        subgraphs: true,
      });
      const result = resultOf(outcome);
      assert.equal(result.status, "success");
      // Not streamed: none of the engine's own events, though `messages`, `updates` and `custom` ran.
      for (const own of ["token", "update", "custom"]) assert.ok(!types(outcome).includes(own), types(outcome).join());
      const modes = new Set(outcome.chunks.map((c) => c.mode));
      assert.deepEqual([...modes].sort(), ["custom", "messages", "updates", "values"]);

      const root = outcome.chunks.filter((c) => c.ns.length === 0);
      const nested = outcome.chunks.filter((c) => c.ns.length > 0);
      assert.ok(
        nested.every((c) => c.ns.length === 1 && /^child:[0-9a-f-]{36}$/.test(c.ns[0]!)),
        JSON.stringify(nested.map((c) => c.ns)),
      );
      const innerUpdate = nested.find((c) => c.mode === "updates" && "inner" in record(c.data));
      assert.deepEqual(record(innerUpdate?.data)["inner"], { log: ["inner saw 2"] });

      // `values`: LangChain's message dicts, as the Agent Server writes them.
      const last = record(root.filter((c) => c.mode === "values").at(-1)?.data);
      const [human, ai] = list(last["messages"]).map(record);
      assert.equal(human?.["type"], "human");
      assert.equal(human?.["content"], "hi there");
      assert.equal(ai?.["type"], "ai");
      assert.equal(ai?.["content"], REPLY);
      for (const key of ["additional_kwargs", "response_metadata", "id", "tool_calls"]) assert.ok(key in ai!, key);
      assert.ok(!("role" in ai!), "not the contract's message shape");

      // `messages`: [message, metadata] pairs; the LLM's tokens make up its reply.
      const tokens = root
        .filter((c) => c.mode === "messages")
        .map((c) => list(c.data))
        .filter(([, metadata]) => record(metadata)["ls_model_type"] === "chat");
      assert.ok(tokens.length > 1, `${tokens.length} token chunks`);
      assert.ok(tokens.every(([, metadata]) => record(metadata)["langgraph_node"] === "ask"));
      assert.equal(tokens.map(([message]) => record(message)["content"]).join(""), REPLY);

      assert.deepEqual(
        root.filter((c) => c.mode === "custom").map((c) => c.data),
        [{ progress: "asking" }],
      );
      const updates = root.filter((c) => c.mode === "updates").flatMap((c) => Object.keys(record(c.data)));
      assert.deepEqual(updates, ["ask", "child"]);

      // The result carries the head's ThreadState.
      const state = record(result.thread_state);
      assert.deepEqual(record(state["values"])["log"], ["inner saw 2"]);
      assert.deepEqual(state["next"], []);
      assert.deepEqual(state["tasks"], []);
      assert.deepEqual(record(state["checkpoint"])["checkpoint_id"], result.checkpoint_id);
      assert.equal(record(state["checkpoint"])["thread_id"], threadId);
      assert.equal(typeof record(state["parent_checkpoint"])["checkpoint_id"], "string");
      // As the reference writes timestamps, from either runtime: UTC, milliseconds, Z.
      assert.match(String(state["created_at"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    test("an interrupt in a subgraph: its chunks, the state's tasks and interrupts, a resume by Command, history filtered by the run's metadata", async () => {
      const threadId = newThread();
      const first = await rig.run(runtime, {
        code: programs.review,
        language,
        thread_id: threadId,
        inputs: { x: 1 },
        stream_modes: ["updates"],
        config: { ...defaultRunConfig(), metadata: { user: "alice" } },
      });
      const interrupted = resultOf(first);
      assert.equal(interrupted.status, "interrupted");
      const [interrupt] = interrupted.interrupts;
      assert.deepEqual(interrupt?.value, { question: "approve 2?" });
      // Without `subgraphs`, only the root's chunks: the interrupt as LangGraph's server shows it.
      assert.ok(first.chunks.every((c) => c.ns.length === 0 && c.mode === "updates"));
      const shown = first.chunks.map((c) => record(c.data)).find((data) => "__interrupt__" in data);
      assert.deepEqual(shown?.["__interrupt__"], [{ value: { question: "approve 2?" }, id: interrupt?.id }]);

      const state = record(answerOf(await rig.run(runtime, op(programs.review, threadId, "state", {}))));
      assert.deepEqual(state["values"], { x: 2 });
      assert.deepEqual(state["next"], ["review"]);
      assert.equal(record(state["metadata"])["user"], "alice");
      assert.equal(record(state["checkpoint"])["checkpoint_id"], interrupted.checkpoint_id);
      const [task] = list(state["tasks"]).map(record);
      assert.equal(task?.["name"], "review");
      assert.deepEqual(task?.["interrupts"], [{ value: { question: "approve 2?" }, id: interrupt?.id }]);
      assert.match(String(record(task?.["checkpoint"])["checkpoint_ns"]), /^review:/);
      assert.equal(task?.["state"], null);
      assert.deepEqual(record(interrupted.thread_state)["tasks"], state["tasks"]);

      const deep = record(
        answerOf(await rig.run(runtime, op(programs.review, threadId, "state", { subgraphs: true }))),
      );
      const sub = record(record(list(deep["tasks"])[0])["state"]);
      assert.deepEqual(sub["next"], ["ask_human"]);
      const [subTask] = list(sub["tasks"]).map(record);
      assert.equal(subTask?.["name"], "ask_human");
      assert.deepEqual(subTask?.["interrupts"], [{ value: { question: "approve 2?" }, id: interrupt?.id }]);
      assert.match(String(record(sub["checkpoint"])["checkpoint_ns"]), /^review:/);

      const resumed = resultOf(
        await rig.run(runtime, {
          code: programs.review,
          language,
          thread_id: threadId,
          resume: "yes",
          command: { update: { note: "via command" } },
          config: { ...defaultRunConfig(), metadata: { user: "bob" } },
        }),
      );
      assert.equal(resumed.status, "success");
      assert.deepEqual(resumed.state, { x: 2, note: "via command", answer: "yes" });

      const alice = list(
        answerOf(await rig.run(runtime, op(programs.review, threadId, "history", { filter: { user: "alice" } }))),
      ).map(record);
      const bob = list(
        answerOf(await rig.run(runtime, op(programs.review, threadId, "history", { filter: { user: "bob" } }))),
      ).map(record);
      assert.ok(alice.length >= 2 && bob.length >= 1, `${alice.length} alice, ${bob.length} bob`);
      assert.ok(alice.every((s) => record(s["metadata"])["user"] === "alice"));
      assert.ok(bob.every((s) => record(s["metadata"])["user"] === "bob"));
      // Newest first: bob's newest is the head, alice's newest the interrupted one.
      assert.deepEqual(bob[0]?.["values"], resumed.state);
      assert.equal(record(bob[0]?.["checkpoint"])["checkpoint_id"], resumed.checkpoint_id);
      assert.equal(record(alice[0]?.["checkpoint"])["checkpoint_id"], interrupted.checkpoint_id);
      const steps = alice.map((s) => Number(record(s["metadata"])["step"]));
      assert.deepEqual(
        steps,
        [...steps].sort((a, b) => b - a),
      );

      const one = list(answerOf(await rig.run(runtime, op(programs.review, threadId, "history", { limit: 1 }))));
      assert.equal(one.length, 1);
      assert.equal(record(record(one[0])["checkpoint"])["checkpoint_id"], resumed.checkpoint_id);
    });

    test("update_state as a node, then the state shows the update and what runs next", async () => {
      const threadId = newThread();
      resultOf(await rig.run(runtime, { code: programs.review, language, thread_id: threadId, inputs: { x: 1 } }));
      const updated = record(
        answerOf(
          await rig.run(
            runtime,
            op(programs.review, threadId, "update_state", { values: { x: 100 }, as_node: "step" }),
          ),
        ),
      );
      const checkpoint = record(updated["checkpoint"]);
      assert.equal(checkpoint["thread_id"], threadId);
      assert.equal(checkpoint["checkpoint_ns"], "");
      assert.equal(typeof checkpoint["checkpoint_id"], "string");

      const state = record(answerOf(await rig.run(runtime, op(programs.review, threadId, "state", {}))));
      assert.deepEqual(state["values"], { x: 100 });
      assert.deepEqual(state["next"], ["review"]);
      assert.equal(record(state["metadata"])["source"], "update");
      assert.equal(record(state["checkpoint"])["checkpoint_id"], checkpoint["checkpoint_id"]);

      const refused = await rig.run(
        runtime,
        op(programs.review, threadId, "update_state", { values: { x: 1 }, as_node: "nowhere" }),
      );
      assert.equal(refused.final?.type, "error");
      assert.equal(refused.final?.type === "error" && refused.final.error_type, "invalid_request");
    });

    test("checkpoints, tasks and debug chunks as the reference server shapes them", async () => {
      const outcome = await rig.run(runtime, {
        code: programs.branches,
        language,
        thread_id: newThread(),
        inputs: { x: 3 },
        stream_modes: ["checkpoints", "tasks", "debug"],
      });
      assert.equal(resultOf(outcome).status, "success");
      const of = (mode: string) => outcome.chunks.filter((c) => c.mode === mode).map((c) => record(c.data));
      const checkpoints = of("checkpoints");
      assert.deepEqual(
        checkpoints.map((c) => Object.keys(c)),
        checkpoints.map(() => ["values", "metadata", "next"]),
      );
      assert.deepEqual(
        checkpoints.map((c) => record(c["metadata"])["source"]),
        ["input", "loop", "loop"],
      );
      assert.deepEqual(checkpoints.at(-1)?.["values"], { x: 3, label: "small" });
      const tasks = of("tasks");
      assert.deepEqual(
        tasks.map((t) => [t["name"], "input" in t ? "start" : "end"]),
        [
          ["small", "start"],
          ["small", "end"],
        ],
      );
      assert.deepEqual(tasks[1]?.["result"], { label: "small" });
      const debug = of("debug");
      assert.deepEqual([...new Set(debug.map((d) => d["type"]))].sort(), ["checkpoint", "task", "task_result"]);
      for (const step of debug.filter((d) => d["type"] === "checkpoint")) {
        const payload = record(step["payload"]);
        const configurable = record(record(payload["config"])["configurable"]);
        assert.ok(!Object.keys(configurable).some((key) => key.startsWith("__")), Object.keys(configurable).join());
        assert.equal(record(payload["checkpoint"])["checkpoint_id"], configurable["checkpoint_id"]);
        assert.ok("parent_checkpoint" in payload);
        assert.ok(!("parentConfig" in payload));
      }
    });

    test("a failed task's error in the state; a thread with no checkpoint; history before a checkpoint object", async () => {
      const threadId = newThread();
      const failed = await rig.run(runtime, { code: programs.failing, language, thread_id: threadId, inputs: {} });
      assert.equal(failed.final?.type, "error");
      const state = record(answerOf(await rig.run(runtime, op(programs.failing, threadId, "state", {}))));
      assert.deepEqual(state["values"], { x: 1 });
      assert.deepEqual(state["next"], ["boom"]);
      const [task] = list(state["tasks"]).map(record);
      assert.equal(task?.["name"], "boom");
      const error = record(JSON.parse(String(task?.["error"])));
      assert.equal(error["message"], "boom: this node always fails");
      assert.equal(error["name"], runtime === "python" ? "ValueError" : "Error");

      const history = list(answerOf(await rig.run(runtime, op(programs.failing, threadId, "history", {})))).map(record);
      assert.deepEqual(
        history.map((s) => record(s["metadata"])["step"]),
        [1, 0, -1],
      );
      // `before` as the checkpoint object the SDKs send, or as its id.
      for (const before of [history[0]?.["checkpoint"], record(history[0]?.["checkpoint"])["checkpoint_id"]]) {
        const older = list(answerOf(await rig.run(runtime, op(programs.failing, threadId, "history", { before })))).map(
          record,
        );
        assert.deepEqual(
          older.map((s) => record(s["metadata"])["step"]),
          [0, -1],
        );
      }

      const fresh = record(answerOf(await rig.run(runtime, op(programs.failing, newThread(), "state", {}))));
      assert.deepEqual(fresh, {
        values: {},
        next: [],
        tasks: [],
        created_at: null,
        checkpoint: null,
        parent_checkpoint: null,
      });
    });

    test("describe: the graph's nodes and conditional edges, and its schemas", async () => {
      const described = record(answerOf(await rig.run(runtime, op(programs.branches, null, "describe", {}))));
      const graph = record(described["graph"]);
      const ids = list(graph["nodes"]).map((node) => record(node)["id"]);
      assert.deepEqual([...ids].sort(), ["__end__", "__start__", "big", "small"]);
      const edges = list(graph["edges"]).map(record);
      const conditional = edges.filter((edge) => edge["conditional"] === true).map((edge) => edge["target"]);
      assert.deepEqual(conditional.sort(), ["big", "small"]);
      assert.ok(edges.some((edge) => edge["source"] === "big" && edge["target"] === "__end__" && !edge["conditional"]));
      for (const key of ["input_schema", "output_schema", "state_schema"]) {
        const properties = record(record(described[key])["properties"]);
        assert.deepEqual(Object.keys(properties).sort(), ["label", "x"], key);
      }
      assert.ok("config_schema" in described && "context_schema" in described);
    });
  });
}

test("a program whose graph is a Promise or made by an async factory is found, for every op", async () => {
  const ts = `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";
const State = Annotation.Root({ x: Annotation<number>() });
export const graph = (async () => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return new StateGraph(State).addNode("double", (s) => ({ x: s.x * 2 })).addEdge(START, "double").addEdge("double", END);
})();
`;
  const py = `import asyncio
from typing import TypedDict
from langgraph.graph import StateGraph, START, END


class State(TypedDict):
    x: int


async def make_graph(config):
    await asyncio.sleep(0.005)
    assert "configurable" in config  # the run's, as LangGraph's servers give their factories
    builder = StateGraph(State).add_node("double", lambda s: {"x": s["x"] * 2})
    builder.add_edge(START, "double").add_edge("double", END)
    return builder.compile()
`;
  for (const [runtime, code, graph] of [
    ["js", ts, null],
    ["python", py, "make_graph"],
  ] as const) {
    const threadId = newThread();
    const config = { ...defaultRunConfig(), configurable: { thread_id: threadId }, graph };
    const run = resultOf(
      await rig.run(runtime, {
        code,
        language: runtime === "python" ? "python" : "typescript",
        thread_id: threadId,
        inputs: { x: 21 },
        config,
      }),
    );
    assert.deepEqual(run.state, { x: 42 }, runtime);
    const state = record(answerOf(await rig.run(runtime, { ...op(code, threadId, "state", {}), config })));
    assert.deepEqual(state["values"], { x: 42 }, runtime);
  }
});

test("the engine's parser refuses a forged chunk: an unknown mode, a namespace that is not a list of names", () => {
  const frame = (message: Json): Buffer => Buffer.from(JSON.stringify({ v: 1, ...message }));
  const ok = parseHarnessMessage(frame({ type: "chunk", mode: "updates", ns: ["child:1"], data: { a: 1 } }));
  assert.deepEqual(ok, { v: 1, type: "chunk", mode: "updates", ns: ["child:1"], data: { a: 1 } });
  const forged: Json[] = [
    { type: "chunk", mode: "events", ns: [], data: {} },
    { type: "chunk", mode: "__proto__", ns: [], data: {} },
    { type: "chunk", mode: "values", ns: "child:1", data: {} },
    { type: "chunk", mode: "values", ns: [1], data: {} },
    { type: "chunk", mode: "values", ns: ["x".repeat(2000)], data: {} },
    { type: "chunk", mode: "values", ns: Array.from({ length: 65 }, () => "a"), data: {} },
  ];
  for (const message of forged)
    assert.throws(() => parseHarnessMessage(frame(message)), ProtocolError, JSON.stringify(message).slice(0, 80));
  // A result from a harness that sends no thread state still parses, as null.
  const result = parseHarnessMessage(
    frame({
      type: "result",
      status: "success",
      messages: [],
      state: {},
      next: [],
      interrupts: [],
      checkpoint_id: null,
    }),
  );
  assert.equal(result.type === "result" && result.thread_state, null);
});

test("both harnesses forward exactly the engine's CHUNK_MODES", () => {
  // Declared once in messages.ts; the harnesses carry their own copy (they import nothing of the engine's).
  const python = readFileSync(join(SOURCE_ROOT, "runtimes/python/harness/graphbox_harness/chunks.py"), "utf8");
  const js = readFileSync(join(SOURCE_ROOT, "runtimes/js/harness/chunks.mjs"), "utf8");
  const modes = (text: string, pattern: RegExp): string[] =>
    [...(pattern.exec(text)?.[1] ?? "").matchAll(/"(\w+)"/g)].map((m) => m[1]!);
  assert.deepEqual(modes(python, /^CHUNK_MODES = \(([^)]*)\)$/m), [...CHUNK_MODES]);
  assert.deepEqual(modes(js, /^const CHUNK_MODES = \[([^\]]*)\];$/m), [...CHUNK_MODES]);
});

/** A job of an op other than `run`. */
function op(
  code: string,
  threadId: string | null,
  name: "state" | "history" | "update_state" | "describe",
  args: Json,
) {
  return {
    code,
    language: code.includes("from langgraph") ? ("python" as const) : ("typescript" as const),
    thread_id: threadId ?? newThread(),
    op: name,
    args,
  };
}
