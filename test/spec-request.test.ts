/** The specification's own test request, exactly as the designer sends it. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { programSource } from "./support/corpus.ts";
import { engineWithLlm } from "./support/engine.ts";

const context = engineWithLlm();

test("the sample ChatOpenAI program answers success with the stand-in's tokens", async () => {
  const { status, body } = await context.engine.post("/execute-langgraph", {
    code: programSource("python/02_chat.py"),
    inputs: { messages: [{ role: "user", content: "Hello, world!" }] },
    config: { thread_id: "test-123", debug: false, breakpoints: [] },
  });
  assert.equal(status, 200);
  assert.equal(body["status"], "success", JSON.stringify(body));
  const result = body["result"] as { messages: { role: string; content: string }[]; metadata: Record<string, unknown> };
  assert.deepEqual(
    result.messages.map((m) => m.role),
    ["user", "assistant"],
  );
  assert.equal(result.messages[1]!.content, "Hello from the stand-in! You said: Hello, world!");
  assert.equal(context.llm.calls.length, 1);
  assert.equal(result.metadata["tokens_used"], context.llm.totalTokens());
  assert.equal(result.metadata["thread_id"], "test-123");
  assert.deepEqual(result.metadata["nodes_executed"], ["agent"]);
  assert.equal(typeof result.metadata["duration_ms"], "number");
  const byModel = (result.metadata["token_usage"] as { by_model: Record<string, { calls: number }> }).by_model;
  assert.equal(byModel["gpt-4o-mini"]?.calls, 1);
});
