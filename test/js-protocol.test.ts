/**
 * The JavaScript harness's side of the protocol: this test plays the engine on fd 3 with the
 * engine's own framing and parser, so every frame the harness sends must pass them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { harnessSession as session } from "./support/js-harness.ts";

const PROGRAM = `import { StateGraph, START, END, Annotation, type LangGraphRunnableConfig } from "@langchain/langgraph";
const State = Annotation.Root({ n: Annotation<number>(), log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }) });
export const app = new StateGraph(State)
  .addNode("one", (s: typeof State.State, config: LangGraphRunnableConfig) => {
    config.writer?.({ progress: "half" });
    return { n: s.n + 1, log: ["one"] };
  })
  .addNode("two", (s: typeof State.State) => ({ n: s.n * 10, log: ["two"] }))
  .addEdge(START, "one").addEdge("one", "two").addEdge("two", END)
  .compile();
`;

test("ready, then events, checkpoint requests and one result, every frame valid", async () => {
  const { messages, exitCode, logs } = await session({ code: PROGRAM, inputs: { n: 1 }, stream: true, debug: true });
  assert.equal(exitCode, 0, logs);
  assert.equal(logs, "");
  const ready = messages[0]!;
  assert.equal(ready.type, "ready");
  if (ready.type === "ready") {
    assert.equal(ready.runtime, "js");
    assert.equal(ready.versions.get("@langchain/langgraph"), "1.7.3");
  }
  const types = messages.map((m) => m.type);
  assert.equal(types.at(-1), "result");
  assert.equal(types.filter((t) => t === "result" || t === "error").length, 1);
  const nodeEvents = messages.flatMap((m) =>
    m.type === "node_start" || m.type === "node_end" ? [`${m.type} ${m.node} ${m.step}`] : [],
  );
  assert.deepEqual(nodeEvents, ["node_start one 1", "node_end one 1", "node_start two 2", "node_end two 2"]);
  assert.ok(types.includes("custom") && types.includes("update") && types.includes("debug"), types.join(","));
  const ops = new Set(messages.flatMap((m) => (m.type === "checkpoint" ? [m.op] : [])));
  assert.ok(ops.has("put") && ops.has("put_writes") && ops.has("get_tuple"), [...ops].join(","));
  const result = messages.at(-1)!;
  if (result.type === "result") {
    assert.deepEqual(result.state, { n: 20, log: ["one", "two"] });
    assert.equal(typeof result.checkpoint_id, "string");
  }
});

test("a checkpoint request the engine refuses fails the run as the program's error", async () => {
  const { messages, exitCode } = await session({ code: PROGRAM, inputs: { n: 1 } }, { refuse: "put" });
  assert.equal(exitCode, 0);
  const last = messages.at(-1)!;
  assert.equal(last.type, "error");
  if (last.type === "error") {
    assert.equal(last.error_type, "program_error");
    assert.match(last.error, /EngineRequestError: this execution may only use its own thread/);
  }
});

test("an engine that closes the channel before the job ends the harness, without a hang", async () => {
  const started = Date.now();
  const { messages, exitCode, logs } = await session(null);
  assert.deepEqual(
    messages.map((m) => m.type),
    ["ready"],
  );
  assert.notEqual(exitCode, 0);
  assert.match(logs, /engine closed the channel/);
  assert.ok(Date.now() - started < 10_000);
});
