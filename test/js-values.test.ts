/** What the JavaScript/TypeScript runtime makes of JavaScript's own values, and what it keeps off the network. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { startEngine, type RunningEngine } from "./support/engine.ts";
import { readSse } from "./support/sse.ts";

type Json = Record<string, unknown>;

let engine: RunningEngine;
before(async () => (engine = await startEngine()));
after(async () => engine.close());

const resultOf = (body: Json) => body["result"] as { state: Json; metadata: Json & { logs: string } };

test("JavaScript values survive the checkpoint and come out JSON-safe", async () => {
  const code = `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";

class Point {
  constructor(public x: number, public y: number) {}
}
const keep = <T>() => Annotation<T>({ reducer: (_a: T, b: T) => b });
const State = Annotation.Root({
  when: keep<Date>(), big: keep<bigint>(), nested: keep<bigint[]>(), nan: keep<number>(),
  keyed: keep<Map<unknown, unknown>>(), objectKeys: keep<Map<unknown, unknown>>(), tags: keep<Set<string>>(),
  floats: keep<Float64Array>(), bytes: keep<Buffer>(), point: keep<Point>(), report: keep<string>(),
});

const make = () => ({
  when: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), big: 12345678901234567890n, nested: [1n], nan: NaN,
  keyed: new Map<unknown, unknown>([[1, "a"], ["b", 2]]), objectKeys: new Map([[{ x: 1 }, "v"]]), tags: new Set(["b", "a"]),
  floats: new Float64Array([1.5, -2]), bytes: Buffer.from("hi"), point: new Point(1, 2),
});
// Runs after the checkpoint between the steps: what it reads came back from the store.
const inspect = (s: typeof State.State) => ({
  report: [typeof s.big, typeof s.nested[0], s.when instanceof Date, Number.isNaN(s.nan), s.keyed instanceof Map, s.tags instanceof Set, s.floats instanceof Float64Array].join(","),
});

export const app = new StateGraph(State)
  .addNode("make", make).addNode("inspect", inspect)
  .addEdge(START, "make").addEdge("make", "inspect").addEdge("inspect", END)
  .compile();
`;
  const { body } = await engine.post("/execute-langgraph", { code, language: "typescript", inputs: {} });
  assert.equal(body["status"], "success", JSON.stringify(body));
  const { state } = resultOf(body);
  assert.equal(state["report"], "bigint,bigint,true,true,true,true,true");
  assert.deepEqual(state["when"], { __type: "Date", repr: "2026-01-02T03:04:05.000Z" });
  assert.deepEqual(state["big"], { __type: "BigInt", repr: "12345678901234567890" });
  assert.deepEqual(state["nested"], [{ __type: "BigInt", repr: "1" }]);
  assert.deepEqual(state["nan"], { __type: "number", repr: "NaN" });
  assert.deepEqual(state["keyed"], { "1": "a", b: 2 });
  assert.deepEqual(state["objectKeys"], [[{ x: 1 }, "v"]]);
  assert.deepEqual(state["tags"], ["a", "b"]);
  assert.deepEqual(state["floats"], {
    __type: "Float64Array",
    repr: Buffer.from(new Float64Array([1.5, -2]).buffer).toString("base64"),
    encoding: "base64",
  });
  assert.deepEqual((state["bytes"] as Json)["repr"], "aGk=");
  assert.deepEqual(state["point"], { x: 1, y: 2 });
});

test("streamed custom events and updates carry functions, symbols and cycles as descriptions", async () => {
  const code = `import { StateGraph, START, END, Annotation, type LangGraphRunnableConfig } from "@langchain/langgraph";

const State = Annotation.Root({ out: Annotation<string>() });
const cycle: Record<string, unknown> = { name: "loop" };
cycle.self = cycle;

export const app = new StateGraph(State)
  .addNode("emit", (_s: typeof State.State, config: LangGraphRunnableConfig) => {
    config.writer?.({ fn: function named() {}, sym: Symbol("tag"), cycle, empty: new (class Handle {})() });
    return { out: "done" };
  })
  .addEdge(START, "emit").addEdge("emit", END)
  .compile();
`;
  const read = await readSse(`${engine.url}/execute-langgraph/stream`, {
    body: { code, language: "typescript", inputs: {} },
  });
  const types = read.events.map((e) => e.event);
  assert.deepEqual(
    types,
    ["metadata", "node_start", "custom", "update", "node_end", "complete"],
    JSON.stringify(read.events),
  );
  const custom = read.events.find((e) => e.event === "custom")!.data["data"] as Json;
  assert.deepEqual(custom["fn"], { __type: "Function", repr: "[Function: named]" });
  assert.deepEqual(custom["sym"], { __type: "Symbol", repr: "Symbol(tag)" });
  assert.deepEqual(custom["cycle"], { name: "loop", self: { __type: "Circular", repr: "[Circular]" } });
  assert.deepEqual(custom["empty"], { __type: "Handle", repr: "Handle {}" });
  assert.deepEqual(read.events.find((e) => e.event === "update")!.data["emit"], { out: "done" });
});

test("token counting uses the installed tiktoken ranks: no web fetch, nothing in the logs", async () => {
  const code = `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";
import { ChatOpenAI } from "@langchain/openai";

const State = Annotation.Root({ tokens: Annotation<number[]>() });
export const app = new StateGraph(State)
  .addNode("count", async () => {
    const models = [new ChatOpenAI({ model: "gpt-4o-mini" }), new ChatOpenAI({ model: "gpt-4" })];
    return { tokens: await Promise.all(models.map((m) => m.getNumTokens("hello world, hello tokens"))) };
  })
  .addEdge(START, "count").addEdge("count", END)
  .compile();
`;
  const { body } = await engine.post("/execute-langgraph", { code, language: "typescript", inputs: {} });
  assert.equal(body["status"], "success", JSON.stringify(body));
  const { state, metadata } = resultOf(body);
  // Exact BPE counts (o200k_base, cl100k_base); the offline fallback would guess ceil(25 / 4) = 7.
  assert.deepEqual(state["tokens"], [5, 5]);
  assert.equal(metadata.logs, "");
});

test("config.debug reports each step of a JavaScript program", async () => {
  const code = `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";
const State = Annotation.Root({ n: Annotation<number>() });
export default new StateGraph(State)
  .addNode("inc", (s: typeof State.State) => ({ n: s.n + 1 }))
  .addEdge(START, "inc").addEdge("inc", END)
  .compile();
`;
  // No `language`: detected from the source (as javascript here: a generic call is no sign the detector knows), and run all the same.
  const { body } = await engine.post("/execute-langgraph", { code, inputs: { n: 1 }, config: { debug: true } });
  assert.equal(body["status"], "success", JSON.stringify(body));
  const { metadata, state } = resultOf(body);
  assert.ok(["javascript", "typescript"].includes(String(metadata["runtime"])));
  assert.deepEqual(state, { n: 2 });
  const steps = metadata["debug"] as Json[];
  const ran = steps.flatMap((s) => s["tasks"] as Json[]);
  assert.deepEqual(
    ran.map((t) => [t["node"], t["status"], t["input"], t["writes"]]),
    [["inc", "ok", { n: 1 }, { n: 2 }]],
  );
  assert.deepEqual(steps.at(-1)!["state"], { n: 2 });
});
