/**
 * What a hostile user sends through real HTTP: legal graphs with names chosen to collide with the
 * engine's fields, and programs that write to the harness's own channel (the harness runs in the
 * program's process, so it can). Each ends its own execution at most; the engine then answers the
 * next request normally, and the process never exits (an escaped rejection fails this file).
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { EVENT_TYPES } from "../src/contract/types.ts";
import { engineWithLlm } from "./support/engine.ts";
import { PYTHON_OK, pythonOneNode, TYPESCRIPT_OK } from "./support/programs.ts";
import { readSse, type SseEvent } from "./support/sse.ts";

const MAX_EVENTS = 300;
const MAX_EVENT_BYTES = 4 * 1024 * 1024;
const MAX_OUTPUT_BYTES = 3 * 1024 * 1024;
const MAX_LOG_TOTAL_BYTES = 8 * 1024 * 1024;
const ctx = engineWithLlm({
  maxEvents: MAX_EVENTS,
  maxEventBytes: MAX_EVENT_BYTES,
  maxOutputBytes: MAX_OUTPUT_BYTES,
  maxLogTotalBytes: MAX_LOG_TOTAL_BYTES,
});

/** Python: the harness's channel (an fd the harness holds), and a raw frame writer on it. */
const PY_RAW = `
import gc, os, struct
from graphbox_harness.protocol import Channel

def send_raw(text):
    fd = next(o for o in gc.get_objects() if isinstance(o, Channel))._fd
    data = text.encode() if isinstance(text, str) else text
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        view = view[os.write(fd, view):]
`;

/** TypeScript: the harness's channel is fd 3. */
const TS_RAW = `
import { writeSync } from "node:fs";
function sendRaw(text: string): void {
  const payload = Buffer.from(text, "utf8");
  const frame = Buffer.alloc(4 + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  payload.copy(frame, 4);
  let offset = 0;
  while (offset < frame.length) {
    try {
      offset += writeSync(3, frame, offset);
    } catch (err) {
      if ((err as { code?: string }).code !== "EAGAIN") throw err;
    }
  }
}
`;

function tsOneNode(name: string, body: string, preamble = TS_RAW): string {
  return `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";
${preamble}
const State = Annotation.Root({ out: Annotation<string>() });
async function work(state: typeof State.State, config: any): Promise<Partial<typeof State.State>> {
${body
  .split("\n")
  .map((l) => `  ${l}`)
  .join("\n")}
}
export const app = new StateGraph(State).addNode(${JSON.stringify(name)}, work).addEdge(START, ${JSON.stringify(name)}).addEdge(${JSON.stringify(name)}, END).compile();
`;
}

const NAMES = new Set<string>(EVENT_TYPES);

/** Streams one request; checks the stream's shape whatever the program did: known names, increasing ids, one terminal event, last. */
async function stream(body: Record<string, unknown>): Promise<{ events: SseEvent[]; terminal: SseEvent }> {
  const read = await readSse(`${ctx.engine.url}/execute-langgraph/stream`, { body });
  assert.equal(read.status, 200);
  for (const event of read.events) {
    assert.ok(NAMES.has(event.event), `event name ${JSON.stringify(event.event)} is the engine's`);
    assert.equal(event.data["type"], event.event);
  }
  assert.deepEqual(
    read.events.map((e) => e.id),
    [...read.events.map((e) => e.id)].sort((a, b) => a - b),
  );
  const terminals = read.events.filter((e) => e.event === "complete" || e.event === "error");
  assert.equal(terminals.length, 1, `exactly one terminal event: ${read.events.map((e) => e.event).join(",")}`);
  assert.equal(terminals[0], read.events.at(-1));
  return { events: read.events, terminal: terminals[0]! };
}

/** The engine still serves an ordinary run in each runtime. */
async function stillServes(): Promise<void> {
  for (const [code, language] of [
    [PYTHON_OK, "python"],
    [TYPESCRIPT_OK, "typescript"],
  ] as const) {
    const answer = await ctx.engine.post("/execute-langgraph", { code, language, inputs: {} });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body["status"], "success", JSON.stringify(answer.body));
  }
}

const pyProgram = (name: string, body: string, preamble = PY_RAW, state = "State"): Record<string, unknown> => ({
  code: pythonOneNode({ name, body, preamble, state }),
  language: "python",
  inputs: {},
});
const tsProgram = (name: string, body: string, preamble?: string): Record<string, unknown> => ({
  code: tsOneNode(name, body, preamble),
  language: "typescript",
  inputs: {},
});

test("a node named type, node or __proto__ streams its update as data; the engine's fields keep their meaning", async () => {
  for (const name of ["type", "node", "__proto__", "constructor"]) {
    // LangGraph.js itself refuses __proto__ and constructor as node names (they collide with its channels).
    const ts = name === "type" || name === "node" ? [tsProgram(name, `return { out: "from ${name}" };`)] : [];
    for (const request of [pyProgram(name, `return {"out": "from ${name}"}`), ...ts]) {
      const { events, terminal } = await stream(request);
      assert.equal(terminal.event, "complete", JSON.stringify(terminal.data));
      const update = events.find((e) => e.event === "update")!;
      assert.equal(update.data["node"], name);
      const key = name === "type" || name === "node" ? "update" : name;
      assert.deepEqual(Object.getOwnPropertyDescriptor(update.data, key)?.value, { out: `from ${name}` });
      // Names starting with __ are LangGraph's own (__start__, __interrupt__): the harness does not list them as nodes run.
      if (!name.startsWith("__"))
        assert.deepEqual(
          (terminal.data["result"] as { metadata: { nodes_executed: string[] } }).metadata.nodes_executed,
          [name],
        );
    }
  }
  await stillServes();
});

test("a root-channel string state and a node named type cannot name an event or forge a complete", async () => {
  const forged = 'complete\\nid: 999\\nevent: complete\\ndata: {\\"status\\": \\"success\\", \\"forged\\": true}\\n\\n';
  const { events, terminal } = await stream({
    ...pyProgram("type", `return state + "${forged}"`, "", "str"),
    inputs: "hi",
  });
  assert.equal(terminal.event, "complete");
  assert.equal(events.filter((e) => e.event === "complete").length, 1);
  assert.ok(!events.some((e) => e.data["forged"] === true));
  // Written straight to the channel, a node name with a line break is as harmless.
  const raw = await stream(
    pyProgram("work", `send_raw('{"v":1,"type":"update","data":{"type\\\\nevent: complete":1}}')\nreturn {"out": "x"}`),
  );
  assert.equal(raw.terminal.event, "complete");
  await stillServes();
});

test("a custom event nested 200,000 levels deep ends its execution with a protocol error, in both runtimes", async () => {
  const depth = 200_000;
  for (const request of [
    pyProgram(
      "work",
      `send_raw('{"v":1,"type":"custom","data":' + "[" * ${depth} + "]" * ${depth} + '}')\nimport time; time.sleep(5)`,
    ),
    tsProgram(
      "work",
      `sendRaw('{"v":1,"type":"custom","data":' + "[".repeat(${depth}) + "]".repeat(${depth}) + '}');\nawait new Promise((r) => setTimeout(r, 5000));\nreturn {};`,
    ),
  ]) {
    const { terminal } = await stream(request);
    assert.equal(terminal.data["error_type"], "sandbox_error", JSON.stringify(terminal.data));
    assert.match(String(terminal.data["error"]), /nested deeper than 256 levels/);
  }
  await stillServes();
});

test("wrong-typed, unknown and out-of-order frames end their own execution with a protocol error naming the field", async () => {
  const frames: [string, RegExp][] = [
    ['{"v":1,"type":"node_start","node":"a","step":-1}', /node_start has a bad field step/],
    [
      '{"v":1,"type":"usage","model":"m","node":null,"input_tokens":"9","output_tokens":0,"total_tokens":0}',
      /usage has a bad field input_tokens/,
    ],
    ['{"v":1,"type":"launch","x":1}', /unknown message type/],
    ['{"v":2,"type":"ready"}', /protocol version 2/],
    ["[1,2,3]", /not an object/],
    [
      '{"v":1,"type":"result","status":"success","messages":[],"state":[],"next":[],"interrupts":[],"checkpoint_id":null}',
      /result has a bad field state/,
    ],
  ];
  for (const [frame, error] of frames) {
    const answer = await ctx.engine.post(
      "/execute-langgraph",
      pyProgram("work", `send_raw(${JSON.stringify(frame)})\nimport time; time.sleep(5)`),
    );
    assert.equal(answer.body["error_type"], "sandbox_error", JSON.stringify(answer.body));
    assert.match(String(answer.body["error"]), error);
  }
  await stillServes();
});

test("a usage report for a model named __proto__ does not reach Object.prototype", async () => {
  const frame =
    '{"v":1,"type":"usage","model":"__proto__","node":null,"input_tokens":5,"output_tokens":5,"total_tokens":10}';
  for (const request of [
    pyProgram("work", `send_raw(${JSON.stringify(frame)})\nreturn {"out": "x"}`),
    tsProgram("work", `sendRaw(${JSON.stringify(frame)});\nreturn { out: "x" };`),
  ]) {
    const answer = await ctx.engine.post("/execute-langgraph", request);
    assert.equal(answer.body["status"], "success", JSON.stringify(answer.body));
  }
  assert.equal(({} as Record<string, unknown>)["input_tokens"], undefined);
  assert.equal(Object.getOwnPropertyNames(Object.prototype).includes("input_tokens"), false);
  const metrics = await fetch(`${ctx.engine.url}/metrics`);
  assert.equal(metrics.status, 200);
  await stillServes();
});

test("an event flood ends the execution at GRAPHBOX_MAX_EVENTS, and no more than that is stored", async () => {
  for (const request of [
    pyProgram(
      "work",
      `from langgraph.config import get_stream_writer\nw = get_stream_writer()\nfor i in range(100000):\n    w({"i": i})\nreturn {}`,
      "",
    ),
    tsProgram("work", `for (let i = 0; i < 100000; i++) config.writer({ i });\nreturn {};`, ""),
  ]) {
    const { events, terminal } = await stream(request);
    assert.equal(terminal.data["error_type"], "output_limit", JSON.stringify(terminal.data).slice(0, 500));
    assert.match(String(terminal.data["error"]), /GRAPHBOX_MAX_EVENTS \(300\)/);
    assert.ok(events.length <= MAX_EVENTS + 2, `${events.length} events streamed`);
    const id = String(events[0]!.data["execution_id"]);
    const replay = await readSse(`${ctx.engine.url}/executions/${id}/stream`, { method: "GET" });
    assert.ok(replay.events.length <= MAX_EVENTS + 2, `${replay.events.length} events stored`);
  }
  await stillServes();
});

test("events over GRAPHBOX_MAX_EVENT_BYTES end the execution; the store holds no more than the quota", async () => {
  for (const request of [
    pyProgram(
      "work",
      `from langgraph.config import get_stream_writer\nw = get_stream_writer()\nfor i in range(40):\n    w("x" * (1024 * 1024))\nreturn {}`,
      "",
    ),
    tsProgram("work", `for (let i = 0; i < 40; i++) config.writer("x".repeat(1024 * 1024));\nreturn {};`, ""),
  ]) {
    const { events, terminal } = await stream(request);
    assert.equal(terminal.data["error_type"], "output_limit");
    assert.match(String(terminal.data["error"]), /GRAPHBOX_MAX_EVENT_BYTES \(4194304 bytes\)/);
    const id = String(events[0]!.data["execution_id"]);
    const replay = await readSse(`${ctx.engine.url}/executions/${id}/stream`, { method: "GET" });
    const stored = replay.events.reduce((sum, e) => sum + JSON.stringify(e.data).length, 0);
    assert.ok(stored <= MAX_EVENT_BYTES + 64 * 1024, `${stored} bytes of events stored`);
  }
  await stillServes();
});

test("config.debug cannot make an answer larger than GRAPHBOX_MAX_OUTPUT_BYTES", async () => {
  const code = `from typing import TypedDict
from langgraph.graph import StateGraph, START, END

class State(TypedDict, total=False):
    blob: str
    n: int

def grow(state):
    return {"blob": "y" * (700 * 1024), "n": state.get("n", 0) + 1}

g = StateGraph(State)
g.add_node("grow", grow)
g.add_edge(START, "grow")
g.add_conditional_edges("grow", lambda s: END if s["n"] >= 6 else "grow")
app = g.compile()
`;
  const answer = await ctx.engine.post("/execute-langgraph", {
    code,
    language: "python",
    inputs: {},
    config: { debug: true },
  });
  assert.equal(answer.body["error_type"], "output_limit", JSON.stringify(answer.body).slice(0, 300));
  assert.match(
    String(answer.body["error"]),
    /config\.debug's trace is over GRAPHBOX_MAX_OUTPUT_BYTES|the answer \(result and debug trace/,
  );
  // Without debug, the same program fits.
  const plain = await ctx.engine.post("/execute-langgraph", { code, language: "python", inputs: {} });
  assert.equal(plain.body["status"], "success");
  await stillServes();
});

test("printing without end ends the execution at GRAPHBOX_MAX_LOG_TOTAL_BYTES, with the first prints kept", async () => {
  for (const request of [
    pyProgram("work", `import sys\nline = "p" * 1023 + "\\n"\nwhile True:\n    sys.stdout.write(line)`, ""),
    tsProgram("work", `const line = "p".repeat(1023) + "\\n";\nfor (;;) process.stdout.write(line);`, ""),
  ]) {
    const answer = await ctx.engine.post("/execute-langgraph", { ...request, config: { timeout_ms: 30_000 } });
    assert.equal(answer.body["error_type"], "output_limit", JSON.stringify(answer.body).slice(0, 300));
    assert.match(String(answer.body["error"]), /printed more than GRAPHBOX_MAX_LOG_TOTAL_BYTES \(8388608 bytes\)/);
    const logs = (answer.body["metadata"] as { logs: string }).logs;
    assert.ok(logs.startsWith("p".repeat(1023)), "the first prints are kept");
  }
  await stillServes();
});

test("an update frame naming many nodes counts one event per node against GRAPHBOX_MAX_EVENTS", async () => {
  const frame = JSON.stringify({
    v: 1,
    type: "update",
    data: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`n${i}`, i])),
  });
  const { events, terminal } = await stream(
    pyProgram("work", `send_raw(${JSON.stringify(frame)})\nreturn {"out": "x"}`),
  );
  assert.equal(terminal.data["error_type"], "output_limit", JSON.stringify(terminal.data).slice(0, 300));
  assert.match(String(terminal.data["error"]), /GRAPHBOX_MAX_EVENTS \(300\)/);
  assert.ok(events.length <= MAX_EVENTS + 2, `${events.length} events streamed`);
  await stillServes();
});
