/** Every error type the engine core produces, each followed by a normal request. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { startEngine, type RunningEngine } from "./support/engine.ts";
import { PYTHON_OK, pythonGraph } from "./support/programs.ts";

let engine: RunningEngine;
before(async () => (engine = await startEngine()));
after(async () => engine.close());

async function expectHealthy(): Promise<void> {
  const { status, body } = await engine.post("/execute-langgraph", { code: PYTHON_OK, language: "python", inputs: {} });
  assert.equal(status, 200);
  assert.equal(body["status"], "success", JSON.stringify(body));
  assert.deepEqual((body["result"] as { state: unknown }).state, { out: "fine" });
}

async function run(code: string, config: Record<string, unknown> = {}) {
  return engine.post("/execute-langgraph", { code, language: "python", inputs: { value: 1 }, config });
}

test("syntax_error names the program's line", async () => {
  const { status, body } = await run("from langgraph.graph import StateGraph\n\ndef broken(:\n    pass\n");
  assert.equal(status, 200);
  assert.equal(body["error_type"], "syntax_error");
  assert.match(String(body["error"]), /^SyntaxError: .*line 3/);
  assert.match(String(body["traceback"]), /File "<workflow>", line 3/);
  await expectHealthy();
});

test("program_error in a node names the node, the line and the program's prints", async () => {
  const code = pythonGraph(`print("about to fail")\nreturn {"out": undefined_name}`);
  const { body } = await run(code);
  assert.equal(body["error_type"], "program_error");
  assert.equal(body["node"], "work");
  assert.equal(body["error"], "NameError: name 'undefined_name' is not defined");
  assert.match(String(body["traceback"]), /File "<workflow>", line 12, in work/);
  assert.doesNotMatch(String(body["traceback"]), /\/work\/|site-packages|graphbox_harness/);
  assert.equal((body["metadata"] as { logs: string }).logs, "about to fail\n");
  await expectHealthy();
});

test("program_error at the top level has no node", async () => {
  const { body } = await run("import json\nraise RuntimeError('top level boom')\n");
  assert.equal(body["error_type"], "program_error");
  assert.equal(body["node"], null);
  assert.equal(body["error"], "RuntimeError: top level boom");
  assert.match(String(body["traceback"]), /File "<workflow>", line 2, in <module>/);
  await expectHealthy();
});

test("no_app when the program defines no graph", async () => {
  const { body } = await run("import json\nx = 1\n");
  assert.equal(body["error_type"], "no_app");
  assert.match(String(body["error"]), /`app`.*`graph`.*`workflow`.*`builder`.*create_app\(\)/);
  await expectHealthy();
});

test("create_app() is used when no graph variable exists", async () => {
  const code = PYTHON_OK.replace("app = workflow.compile()", "def create_app():\n    return workflow\n")
    .replace(/^workflow = /m, "flow = ")
    .replace(/workflow\./g, "flow.")
    .replace("return workflow", "return flow");
  const { body } = await run(code);
  assert.equal(body["status"], "success", JSON.stringify(body));
});

test("timeout kills the execution and its children at config.timeout_ms", async () => {
  const code = pythonGraph(`import subprocess, time\nsubprocess.Popen(["sleep", "1000"])\ntime.sleep(1000)\nreturn {}`);
  const started = Date.now();
  const { status, body } = await run(code, { timeout_ms: 1500 });
  assert.equal(status, 200);
  assert.equal(body["error_type"], "timeout");
  assert.match(String(body["error"]), /timeout of 1500 ms/);
  assert.ok(Date.now() - started < 15_000);
  await expectHealthy();
});

test("sys.exit() in a node is a program_error, not a lost result", async () => {
  const { body } = await run(pythonGraph(`import sys\nsys.exit(3)`));
  assert.equal(body["error_type"], "program_error");
  assert.equal(body["node"], "work");
  assert.equal(body["error"], "ProgramExit: the program called sys.exit(3)");
  await expectHealthy();
});

test("a process that dies without a result is a sandbox_error", async () => {
  const { body } = await run(pythonGraph(`import os\nos._exit(7)`));
  assert.equal(body["error_type"], "sandbox_error");
  assert.match(String(body["error"]), /exited with code 7/);
  await expectHealthy();
});

test("invalid_request: a breakpoint on a node the graph lacks names both", async () => {
  const { status, body } = await run(PYTHON_OK, { breakpoints: ["nope"] });
  assert.equal(status, 400);
  assert.equal(body["error_type"], "invalid_request");
  assert.match(String(body["error"]), /unknown node\(s\) \['nope'\].*\['work'\]/);
  await expectHealthy();
});

test("output_limit when the result is over the configured size", async () => {
  const small = await startEngine(undefined, { maxOutputBytes: 64 * 1024 });
  try {
    const { body } = await small.post("/execute-langgraph", {
      code: pythonGraph(`return {"out": "x" * 1_000_000}`),
      language: "python",
      inputs: {},
    });
    assert.equal(body["error_type"], "output_limit");
  } finally {
    await small.close();
  }
  await expectHealthy();
});

test("the program's prints are bounded", async () => {
  const small = await startEngine(undefined, { maxLogBytes: 1000 });
  try {
    const { body } = await small.post("/execute-langgraph", {
      code: pythonGraph(`for i in range(10000):\n    print("line", i)\nreturn {}`),
      language: "python",
      inputs: {},
    });
    assert.equal(body["status"], "success");
    const logs = (body["result"] as { metadata: { logs: string } }).metadata.logs;
    assert.ok(logs.length < 1200, `logs are ${logs.length} characters`);
    assert.match(logs, /\[graphbox: \d+ more bytes of output dropped\]$/);
  } finally {
    await small.close();
  }
});
