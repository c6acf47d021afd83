/**
 * The engine's memory while a program tries to make it hold what the program will not take:
 * checkpoint answers it never reads. Measured as the engine process's RSS (the test runs the
 * engine in-process), against the bound docs/security.md gives.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { engineWithLlm } from "./support/engine.ts";

const ctx = engineWithLlm();
const MIB = 1024 * 1024;

/** Runs `work` while sampling this process's RSS; returns the answer and the peak growth over the RSS before. */
async function peakGrowth<T>(work: () => Promise<T>): Promise<{ value: T; growthMb: number }> {
  global.gc?.();
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  try {
    const value = await work();
    return { value, growthMb: (peak - before) / MIB };
  } finally {
    clearInterval(sampler);
  }
}

test("64 checkpoint reads a program never takes: the engine holds one answer, not sixty-four", async () => {
  const thread = `big-${Date.now()}`;
  const big = `from typing import TypedDict
from langgraph.graph import StateGraph, START, END

class State(TypedDict, total=False):
    blob: str
    n: int

def work(state):
    return {"blob": "z" * (3500 * 1024), "n": state.get("n", 0) + 1}

g = StateGraph(State)
g.add_node("work", work)
g.add_edge(START, "work")
g.add_edge("work", END)
app = g.compile()
`;
  const first = await ctx.engine.post("/execute-langgraph", { code: big, language: "python", inputs: {}, config: { thread_id: thread } });
  assert.equal(first.body["status"], "success", JSON.stringify(first.body).slice(0, 400));

  const flood = `import gc, os, struct, time
from typing import TypedDict
from langgraph.graph import StateGraph, START, END
from graphbox_harness.protocol import Channel

class State(TypedDict, total=False):
    blob: str
    n: int

def work(state):
    fd = next(o for o in gc.get_objects() if isinstance(o, Channel))._fd
    for i in range(64):
        data = ('{"v":1,"type":"checkpoint","request_id":%d,"op":"get_tuple","args":{}}' % (1000 + i)).encode()
        os.write(fd, struct.pack(">I", len(data)) + data)
    time.sleep(30)
    return {}

g = StateGraph(State)
g.add_node("work", work)
g.add_edge(START, "work")
g.add_edge("work", END)
app = g.compile()
`;
  const { value: answer, growthMb } = await peakGrowth(() =>
    ctx.engine.post("/execute-langgraph", { code: flood, language: "python", inputs: {}, config: { thread_id: thread, timeout_ms: 4000 } }),
  );
  assert.equal(answer.body["error_type"], "timeout", JSON.stringify(answer.body).slice(0, 400));
  // Each answer is ~5 MB of base64 (and a few transient copies while it is built): 64 of them held at once would be over 300 MB (with a 15 MB checkpoint, +1.1 GB before the channel had backpressure).
  assert.ok(growthMb < 150, `engine RSS grew by ${growthMb.toFixed(0)} MB`);
  process.stdout.write(`# engine RSS growth during the flood: ${growthMb.toFixed(0)} MB\n`);
  const next = await ctx.engine.post("/execute-langgraph", { code: big, language: "python", inputs: {}, config: { thread_id: thread } });
  assert.equal(next.body["status"], "success");
});
