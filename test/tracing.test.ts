/** OpenTelemetry traces, exported over OTLP/HTTP (JSON) to a local receiver, from the real engine. */
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";

import { startEngine, type RunningEngine } from "./support/engine.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./support/otlp-receiver.ts";

let llm: LlmStandIn;
let receiver: OtlpReceiver;
let engine: RunningEngine;

before(async () => {
  llm = await startLlmStandIn();
  receiver = await startOtlpReceiver();
  engine = await startEngine(llm, {
    tracing: { endpoint: receiver.tracesUrl, protocol: "http/json", serviceName: "graphbox-test" },
  });
});
after(async () => {
  await engine.close();
  await receiver.close();
  await llm.close();
});
beforeEach(() => {
  llm.reset();
  receiver.spans.length = 0;
});

/** Runs a program, then flushes the exporter so its spans are at the receiver. */
async function run(code: string): Promise<Record<string, unknown>> {
  const { status, body } = await engine.post("/execute-langgraph", { code, language: "python", inputs: {} });
  assert.equal(status, 200, JSON.stringify(body));
  await engine.app.engine.observers.flush();
  return body;
}

const executionSpan = (): ReceivedSpan => {
  const spans = receiver.spans.filter((s) => s.name === "graphbox.execution");
  assert.equal(spans.length, 1, `execution spans: ${JSON.stringify(receiver.spans.map((s) => s.name))}`);
  return spans[0]!;
};
const childrenOf = (parent: ReceivedSpan): ReceivedSpan[] =>
  receiver.spans.filter((s) => s.parentSpanId === parent.spanId);

const TWO_NODES = `from typing import TypedDict
from langchain_openai import ChatOpenAI
from langgraph.graph import StateGraph, START, END


class State(TypedDict, total=False):
    question: str
    answer: str


def plan(state: State):
    return {"question": "What do two and two make?"}


def ask(state: State):
    reply = ChatOpenAI(model="gpt-4o-mini", max_retries=0).invoke(state["question"])
    return {"answer": reply.content}


workflow = StateGraph(State)
workflow.add_node("plan", plan)
workflow.add_node("ask", ask)
workflow.add_edge(START, "plan")
workflow.add_edge("plan", "ask")
workflow.add_edge("ask", END)
app = workflow.compile()
`;

test("an execution span with its two node spans, and the LLM call under the node that made it", async () => {
  const body = await run(TWO_NODES);
  assert.equal(body["status"], "success", JSON.stringify(body));
  const metadata = (body["result"] as { metadata: Record<string, unknown> }).metadata;
  assert.equal(llm.calls.length, 1);
  const usage = llm.calls[0]!.usage!;
  assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0);

  const execution = executionSpan();
  assert.equal(execution.parentSpanId, "");
  assert.equal(execution.resource["service.name"], "graphbox-test");
  assert.equal(execution.attributes["graphbox.execution.id"], metadata["execution_id"]);
  assert.equal(execution.attributes["graphbox.thread.id"], metadata["thread_id"]);
  assert.equal(execution.attributes["graphbox.runtime"], "python");
  assert.equal(execution.attributes["graphbox.execution.status"], "success");
  assert.equal(execution.attributes["graphbox.tokens.input"], usage.input_tokens);
  assert.equal(execution.attributes["graphbox.tokens.output"], usage.output_tokens);
  assert.equal(execution.attributes["graphbox.tokens.total"], usage.total_tokens);
  assert.equal(execution.status.code, 0);
  // Every span is in the execution's trace: the two nodes, and the call.
  assert.equal(receiver.spans.length, 4);
  assert.ok(receiver.spans.every((s) => s.traceId === execution.traceId));

  const nodes = childrenOf(execution);
  assert.deepEqual(nodes.map((s) => s.name).sort(), ["node ask", "node plan"]);
  const ask = nodes.find((s) => s.name === "node ask")!;
  const plan = nodes.find((s) => s.name === "node plan")!;
  assert.equal(ask.attributes["graphbox.node.status"], "ok");
  assert.ok(plan.startNs <= ask.startNs);
  assert.deepEqual(childrenOf(plan), []);

  const calls = childrenOf(ask);
  assert.equal(calls.length, 1);
  const call = calls[0]!;
  assert.equal(call.name, "chat gpt-4o-mini");
  assert.equal(call.kind, 3, "SPAN_KIND_CLIENT");
  assert.equal(call.attributes["gen_ai.provider.name"], "openai");
  assert.equal(call.attributes["gen_ai.system"], "openai");
  assert.equal(call.attributes["gen_ai.operation.name"], "chat");
  assert.equal(call.attributes["gen_ai.request.model"], "gpt-4o-mini");
  assert.equal(call.attributes["gen_ai.usage.input_tokens"], usage.input_tokens);
  assert.equal(call.attributes["gen_ai.usage.output_tokens"], usage.output_tokens);
  assert.equal(call.attributes["http.response.status_code"], 200);
  assert.ok(call.endNs > call.startNs);
  assert.ok(execution.startNs <= call.startNs && call.endNs <= execution.endNs);
});

test("parallel nodes are siblings; a failing node marks its span and the execution's", async () => {
  const code = `from typing import TypedDict
from langgraph.graph import StateGraph, START, END


class State(TypedDict, total=False):
    left: str


def left(state: State):
    return {"left": "done"}


def right(state: State):
    raise ValueError("right went wrong")


workflow = StateGraph(State)
workflow.add_node("left", left)
workflow.add_node("right", right)
workflow.add_edge(START, "left")
workflow.add_edge(START, "right")
workflow.add_edge("left", END)
workflow.add_edge("right", END)
app = workflow.compile()
`;
  const body = await run(code);
  assert.equal(body["error_type"], "program_error", JSON.stringify(body));

  const execution = executionSpan();
  assert.equal(execution.attributes["graphbox.execution.status"], "error");
  assert.equal(execution.attributes["graphbox.error_type"], "program_error");
  assert.equal(execution.status.code, 2, "STATUS_CODE_ERROR");
  assert.match(execution.status.message ?? "", /right went wrong/);

  const nodes = childrenOf(execution);
  const right = nodes.find((s) => s.name === "node right");
  assert.ok(right, `node spans: ${JSON.stringify(nodes.map((s) => s.name))}`);
  assert.equal(right.status.code, 2);
  // Both started in step 1, under the execution.
  for (const node of nodes) assert.equal(node.attributes["graphbox.node.step"], 1);
  const left = nodes.find((s) => s.name === "node left");
  if (left) assert.notEqual(left.status.code, 2);
});
