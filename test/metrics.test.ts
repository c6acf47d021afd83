/** GET /metrics: executions by outcome, LLM calls and tokens, from the real engine over HTTP. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { engineWithLlm, startEngine, type RunningEngine } from "./support/engine.ts";
import { PYTHON_OK, pythonGraph } from "./support/programs.ts";

const context = engineWithLlm();

async function scrape(target: RunningEngine = context.engine): Promise<string> {
  const response = await fetch(`${target.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return response.text();
}

/** The value of the sample `name` whose labels are exactly `labels`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = Object.fromEntries(
      [...(match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]),
    );
    const wanted = Object.entries(labels);
    if (wanted.length === Object.keys(have).length && wanted.every(([k, v]) => have[k] === v)) return Number(match[3]);
  }
  return undefined;
}

async function run(code: string, config: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const { status, body } = await context.engine.post("/execute-langgraph", {
    code,
    language: "python",
    inputs: {},
    config,
  });
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

test("one success, one program error and one timeout are counted by status and error_type", async () => {
  assert.equal((await run(PYTHON_OK))["status"], "success");
  assert.equal((await run(pythonGraph(`raise ValueError("boom")`)))["error_type"], "program_error");
  assert.equal(
    (await run(pythonGraph(`import time\ntime.sleep(1000)\nreturn {}`), { timeout_ms: 1500 }))["error_type"],
    "timeout",
  );

  const text = await scrape();
  assert.equal(
    sample(text, "graphbox_executions_total", { status: "success", runtime: "python", error_type: "none" }),
    1,
  );
  assert.equal(
    sample(text, "graphbox_executions_total", { status: "error", runtime: "python", error_type: "program_error" }),
    1,
  );
  assert.equal(
    sample(text, "graphbox_executions_total", { status: "error", runtime: "python", error_type: "timeout" }),
    1,
  );
  assert.equal(sample(text, "graphbox_execution_duration_seconds_count", { runtime: "python", status: "success" }), 1);
  assert.equal(sample(text, "graphbox_execution_duration_seconds_count", { runtime: "python", status: "error" }), 2);
  // The timed-out execution ran at least its 1.5 s.
  assert.ok(sample(text, "graphbox_execution_duration_seconds_sum", { runtime: "python", status: "error" })! >= 1.5);
  assert.equal(sample(text, "graphbox_queue_wait_seconds_count"), 3);
  assert.equal(sample(text, "graphbox_sandbox_start_seconds_count", { runtime: "python" }), 3);
  // The successful node and the failing one ended; the sleeping one never did.
  assert.equal(sample(text, "graphbox_node_duration_seconds_count", { runtime: "python" }), 2);
  assert.equal(sample(text, "graphbox_executions_in_flight"), 0);
  assert.equal(sample(text, "graphbox_queue_depth"), 0);
  // prom-client's process and event-loop metrics.
  assert.ok(sample(text, "process_cpu_user_seconds_total")! > 0);
  assert.ok(sample(text, "nodejs_eventloop_lag_seconds") !== undefined);
});

test("LLM calls through the gateway show up in tokens, calls and upstream errors", async () => {
  context.llm.reset();
  // The first call gets the provider's 500 (the program shrugs it off), the second succeeds.
  context.llm.failNext(500);
  const code = pythonGraph(
    `from langchain_openai import ChatOpenAI
try:
    ChatOpenAI(model="gpt-4o-mini", max_retries=0).invoke("this one fails")
except Exception:
    pass
reply = ChatOpenAI(model="gpt-4o-mini", max_retries=0).invoke("count these words please")
return {"out": reply.content}`,
  );
  const body = await run(code);
  assert.equal(body["status"], "success", JSON.stringify(body));
  assert.deepEqual(
    context.llm.calls.map((c) => c.status),
    [500, 200],
  );
  const usage = context.llm.calls[1]!.usage!;
  assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0);

  const text = await scrape();
  assert.equal(
    sample(text, "graphbox_llm_calls_total", { provider: "openai", model: "gpt-4o-mini", status: "200" }),
    1,
  );
  assert.equal(
    sample(text, "graphbox_llm_calls_total", { provider: "openai", model: "gpt-4o-mini", status: "500" }),
    1,
  );
  assert.equal(sample(text, "graphbox_gateway_upstream_errors_total", { provider: "openai", status: "500" }), 1);
  assert.equal(
    sample(text, "graphbox_llm_tokens_total", { model: "gpt-4o-mini", direction: "input" }),
    usage.input_tokens,
  );
  assert.equal(
    sample(text, "graphbox_llm_tokens_total", { model: "gpt-4o-mini", direction: "output" }),
    usage.output_tokens,
  );
});

test("each app has a registry of its own", async () => {
  const other = await startEngine();
  try {
    const text = await scrape(other);
    assert.match(text, /^# HELP graphbox_executions_total /m);
    assert.equal(
      sample(text, "graphbox_executions_total", { status: "success", runtime: "python", error_type: "none" }),
      undefined,
    );
  } finally {
    await other.close();
  }
  // And this file's app kept its own counts.
  assert.ok(
    sample(await scrape(), "graphbox_executions_total", {
      status: "success",
      runtime: "python",
      error_type: "none",
    })! >= 1,
  );
});
