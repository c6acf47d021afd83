/**
 * The engine's memory while a program tries to make it hold what the program will not take:
 * checkpoint answers it never reads. Measured as the engine process's RSS (the test runs the
 * engine in-process), against the bound docs/security.md gives.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { test } from "node:test";

import { engineWithLlm } from "./support/engine.ts";
import { pythonOneNode } from "./support/programs.ts";
import { readSse } from "./support/sse.ts";

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
  const fields = ["blob: str", "n: int"];
  const big = pythonOneNode({ fields, body: `return {"blob": "z" * (3500 * 1024), "n": state.get("n", 0) + 1}` });
  const first = await ctx.engine.post("/execute-langgraph", {
    code: big,
    language: "python",
    inputs: {},
    config: { thread_id: thread },
  });
  assert.equal(first.body["status"], "success", JSON.stringify(first.body).slice(0, 400));

  const flood = pythonOneNode({
    fields,
    preamble: "import gc, os, struct, time\nfrom graphbox_harness.protocol import Channel",
    body: `fd = next(o for o in gc.get_objects() if isinstance(o, Channel))._fd
for i in range(64):
    data = ('{"v":1,"type":"checkpoint","request_id":%d,"op":"get_tuple","args":{}}' % (1000 + i)).encode()
    os.write(fd, struct.pack(">I", len(data)) + data)
time.sleep(30)
return {}`,
  });
  const { value: answer, growthMb } = await peakGrowth(() =>
    ctx.engine.post("/execute-langgraph", {
      code: flood,
      language: "python",
      inputs: {},
      config: { thread_id: thread, timeout_ms: 4000 },
    }),
  );
  assert.equal(answer.body["error_type"], "timeout", JSON.stringify(answer.body).slice(0, 400));
  // Each answer is ~5 MB of base64 (and a few transient copies while it is built): 64 of them held at once would be over 300 MB (with a 15 MB checkpoint, +1.1 GB before the channel had backpressure).
  assert.ok(growthMb < 150, `engine RSS grew by ${growthMb.toFixed(0)} MB`);
  process.stdout.write(`# engine RSS growth during the flood: ${growthMb.toFixed(0)} MB\n`);
  const next = await ctx.engine.post("/execute-langgraph", {
    code: big,
    language: "python",
    inputs: {},
    config: { thread_id: thread },
  });
  assert.equal(next.body["status"], "success");
});

test("40 custom events of 8 MiB: the run ends at GRAPHBOX_MAX_EVENT_BYTES, the engine's memory stays bounded", async () => {
  const code = pythonOneNode({
    preamble: "from langgraph.config import get_stream_writer",
    body: `w = get_stream_writer()\nfor i in range(40):\n    w("e" * (8 * 1024 * 1024))\nreturn {}`,
  });
  // Streamed to a client in another process, so the growth measured is the engine's alone.
  const client = `
    const r = await fetch(process.argv[1], { method: "POST", headers: { "content-type": "application/json" }, body: process.argv[2] });
    let kept = "";
    for await (const chunk of r.body) kept = (kept + Buffer.from(chunk).toString("latin1")).slice(-65536);
    process.stdout.write(kept);`;
  const { value: tail, growthMb } = await peakGrowth(
    () =>
      new Promise<string>((resolve, reject) => {
        const body = JSON.stringify({ code, language: "python", inputs: {} });
        const reader = spawn(process.execPath, [
          "--input-type=module",
          "-e",
          client,
          `${ctx.engine.url}/execute-langgraph/stream`,
          body,
        ]);
        let out = "";
        reader.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("latin1")));
        reader.on("error", reject);
        reader.on("close", () => resolve(out));
      }),
  );
  const terminal = JSON.parse(
    tail
      .trim()
      .split("\n")
      .at(-1)!
      .replace(/^data: /, ""),
  ) as Record<string, unknown>;
  assert.equal(terminal["error_type"], "output_limit");
  assert.match(String(terminal["error"]), /GRAPHBOX_MAX_EVENT_BYTES \(67108864 bytes\)/);
  const replay = await readSse(`${ctx.engine.url}/executions/${String(terminal["execution_id"])}/stream`, {
    method: "GET",
  });
  assert.ok(replay.events.filter((e) => e.event === "custom").length <= 8, "no more than the quota is stored");
  process.stdout.write(`# engine RSS growth during 40 x 8 MiB events: ${growthMb.toFixed(0)} MB\n`);
  // Each 8 MiB event is held a few times over while it is parsed, stored and written (frame, text, JSON,
  // socket buffer), and the allocator keeps freed pages for a while: 54-216 MB were seen.
  assert.ok(growthMb < 300, `engine RSS grew by ${growthMb.toFixed(0)} MB`);
});
