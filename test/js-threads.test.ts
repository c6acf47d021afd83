/** JavaScript/TypeScript threads: checkpoints go through the engine's store and come back in a new process. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { programSource } from "./support/corpus.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";

type Json = Record<string, unknown>;

let engine: RunningEngine;
before(async () => (engine = await startEngine()));
after(async () => engine.close());

const resultOf = (body: Json) => body["result"] as { state: Json; messages: Json[]; metadata: Json };

test("a thread continues in a new process with BigInt and Date values intact", async () => {
  const code = `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";

const State = Annotation.Root({
  big: Annotation<bigint>({ reducer: (_a, b) => b, default: () => 1n }),
  since: Annotation<Date>({ reducer: (_a, b) => b, default: () => new Date(Date.UTC(2026, 0, 1)) }),
  seen: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

export const app = new StateGraph(State)
  .addNode("bump", (s: typeof State.State) => ({ big: s.big + 1n, seen: [\`\${typeof s.big} \${s.since instanceof Date}\`] }))
  .addEdge(START, "bump")
  .addEdge("bump", END)
  .compile();
`;
  const thread = `js-thread-${crypto.randomUUID()}`;
  for (const expected of ["2", "3"]) {
    const { body } = await engine.post("/execute-langgraph", {
      code,
      language: "typescript",
      inputs: {},
      config: { thread_id: thread },
    });
    assert.equal(body["status"], "success", JSON.stringify(body));
    assert.deepEqual(resultOf(body).state["big"], { __type: "BigInt", repr: expected });
  }
  const state = (await (await fetch(`${engine.url}/threads/${thread}/state`)).json()) as Json;
  assert.equal(state["runtime"], "js");
  const values = state["values"] as Json;
  assert.deepEqual(values["big"], { __type: "BigInt", repr: "3" });
  assert.deepEqual(values["since"], { __type: "Date", repr: "2026-01-01T00:00:00.000Z" });
  assert.deepEqual(values["seen"], ["bigint true", "bigint true"]);
});

test("time travel: a run from an earlier checkpoint of a TypeScript thread forks it", async () => {
  const code = programSource("typescript/01_echo.ts");
  const thread = `js-fork-${crypto.randomUUID()}`;
  const first = await engine.post("/execute-langgraph", {
    code,
    language: "typescript",
    inputs: { messages: [{ role: "user", content: "Hello" }] },
    config: { thread_id: thread },
  });
  assert.deepEqual(resultOf(first.body).metadata["nodes_executed"], ["greet", "shout"]);
  const history = (await (await fetch(`${engine.url}/threads/${thread}/history`)).json()) as {
    checkpoints: { checkpoint_id: string; step: number }[];
  };
  const afterGreet = history.checkpoints.find((c) => c.step === 1);
  assert.ok(afterGreet, JSON.stringify(history));
  const fork = await engine.post("/execute-langgraph", {
    code,
    language: "typescript",
    inputs: null,
    config: { thread_id: thread, checkpoint_id: afterGreet.checkpoint_id },
  });
  assert.equal(fork.body["status"], "success", JSON.stringify(fork.body));
  const result = resultOf(fork.body);
  assert.deepEqual(result.metadata["nodes_executed"], ["shout"]);
  assert.deepEqual(
    result.messages.map((m) => m["content"]),
    ["Hello", "echo: Hello", "ECHO: HELLO"],
  );
  assert.equal(result.state["count"], 2);
  assert.notEqual(result.metadata["checkpoint_id"], afterGreet.checkpoint_id);
});

test("a program cannot reach another thread through its configurable", async () => {
  const code = `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";
const State = Annotation.Root({ out: Annotation<string>() });
export const app = new StateGraph(State)
  .addNode("peek", async () => {
    const other = await app.getState({ configurable: { thread_id: "someone-else" } });
    return { out: JSON.stringify(other.values) };
  })
  .addEdge(START, "peek").addEdge("peek", END)
  .compile();
`;
  const { body } = await engine.post("/execute-langgraph", { code, language: "typescript", inputs: {} });
  assert.equal(body["status"], "error", JSON.stringify(body));
  assert.equal(body["error_type"], "program_error");
  assert.equal(body["node"], "peek");
  assert.match(String(body["error"]), /may only use its own thread/);
});
