/** The LLM gateway: keys stay in the engine, tokens are counted from what the provider said. */
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";

import { startEngine, type RunningEngine } from "./support/engine.ts";
import { apiKeyOf, startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { pythonGraph } from "./support/programs.ts";

// Made at run time, so the only copies are in the engine's memory and the stand-in's records.
const OPENAI_KEY = `sk-real-openai-${crypto.randomUUID()}`;
const ANTHROPIC_KEY = `sk-ant-real-${crypto.randomUUID()}`;

let llm: LlmStandIn;
let engine: RunningEngine;

before(async () => {
  llm = await startLlmStandIn();
  // Keys through the config object, so they are in no process environment on this host.
  engine = await startEngine(undefined, {
    openai: { baseUrl: llm.openaiBaseUrl, apiKey: OPENAI_KEY },
    anthropic: { baseUrl: llm.anthropicBaseUrl, apiKey: ANTHROPIC_KEY },
  });
});
after(async () => {
  await engine.close();
  await llm.close();
});
beforeEach(() => llm.reset());

type Answer = Record<string, unknown> & {
  result?: {
    messages: { role: string; content: string }[];
    metadata: Record<string, unknown> & { token_usage: Record<string, unknown> };
  };
};

async function run(nodeBody: string, config: Record<string, unknown> = {}, preamble = ""): Promise<Answer> {
  const { status, body } = await engine.post("/execute-langgraph", {
    code: pythonGraph(nodeBody, preamble),
    language: "python",
    inputs: {},
    config,
  });
  assert.equal(status, 200, JSON.stringify(body));
  return body as Answer;
}

const LLM_CALLS = `from langchain_openai import ChatOpenAI
from langchain_anthropic import ChatAnthropic
gpt = ChatOpenAI(model="gpt-4o-mini", max_retries=0)
gpt_stream = ChatOpenAI(model="gpt-4o-mini", streaming=True, max_retries=0)
claude = ChatAnthropic(model="claude-sonnet-4-5", max_tokens=64, max_retries=0)
claude_stream = ChatAnthropic(model="claude-sonnet-4-5", max_tokens=64, streaming=True, max_retries=0)`;

test("four calls (both providers, streamed and not) are charged exactly as the stand-in reported, with the engine's keys", async () => {
  const answer = await run(
    `texts = [m.invoke("one two three").content for m in (gpt, gpt_stream, claude, claude_stream)]\nreturn {"out": " | ".join(texts)}`,
    {},
    LLM_CALLS,
  );
  assert.equal(answer["status"], "success", JSON.stringify(answer));
  assert.equal(llm.calls.length, 4);
  assert.deepEqual(
    llm.calls.map((c) => [c.provider, c.stream]),
    [
      ["openai", false],
      ["openai", true],
      ["anthropic", false],
      ["anthropic", true],
    ],
  );
  assert.deepEqual(llm.calls.map(apiKeyOf), [OPENAI_KEY, OPENAI_KEY, ANTHROPIC_KEY, ANTHROPIC_KEY]);
  const metadata = answer.result!.metadata;
  assert.equal(metadata["tokens_used"], llm.totalTokens());
  const byModel = metadata.token_usage["by_model"] as Record<string, { calls: number; total_tokens: number }>;
  assert.equal(byModel["gpt-4o-mini"]?.calls, 2);
  assert.equal(byModel["claude-sonnet-4-5"]?.calls, 2);
  // The harness's own count agrees (the cross-check), and the node carries its tokens.
  assert.equal(metadata.token_usage["reported_by_program_total"], llm.totalTokens());
  assert.deepEqual(
    (metadata["node_timings"] as { tokens: number }[]).map((t) => t.tokens),
    [llm.totalTokens()],
  );
});

test("no key is in the program's environment or in any file it can read", async () => {
  const search = `import os
found = []
for key, value in os.environ.items():
    if "sk-" in value:
        found.append("env:" + key)
for root in ("/proc", "/tmp", "/work", "/root", "/etc", "/var"):
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath.count("/") > 6 or "/proc/" in dirpath and dirpath.rsplit("/", 1)[-1] in ("task", "net", "fd", "map_files", "fdinfo", "ns"):
            dirnames[:] = []
        dirnames[:] = [d for d in dirnames if d not in ("node_modules", ".venv", ".git", "sys")]
        for name in filenames:
            if dirpath.startswith("/proc") and name not in ("environ", "cmdline"):
                continue
            try:
                with open(os.path.join(dirpath, name), "rb") as f:
                    data = f.read(2_000_000)
            except Exception:
                continue
            if b"${OPENAI_KEY}" in data or b"${ANTHROPIC_KEY}" in data:
                found.append(os.path.join(dirpath, name))
return {"out": repr(found), "value": len(os.environ.get("OPENAI_API_KEY", ""))}`;
  const answer = await run(search, { timeout_ms: 120_000 });
  assert.equal(answer["status"], "success", JSON.stringify(answer));
  const state = (answer.result as unknown as { state: { out: string } }).state;
  assert.equal(state.out, "[]");
});

test("a program that fakes usage_metadata does not change tokens_used", async () => {
  const fake = `from langchain_core.messages import AIMessage
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
fake = GenericFakeChatModel(messages=iter([AIMessage(content="hi", usage_metadata={"input_tokens": 500000, "output_tokens": 1, "total_tokens": 500001})]))
reply = fake.invoke("x")
real = gpt.invoke("hello")
return {"out": reply.content}`;
  const answer = await run(fake, {}, LLM_CALLS);
  assert.equal(answer["status"], "success", JSON.stringify(answer));
  const metadata = answer.result!.metadata;
  assert.equal(metadata["tokens_used"], llm.totalTokens());
  assert.ok((metadata.token_usage["reported_by_program_total"] as number) > 500_000);
});

test("a call over the token budget ends the execution with token_budget", async () => {
  const answer = await run(
    `for i in range(5):\n    gpt.invoke("count me " * 20)\nreturn {}`,
    { max_tokens: 30 },
    LLM_CALLS,
  );
  assert.equal(answer["status"], "error");
  assert.equal(answer["error_type"], "token_budget");
  assert.match(String(answer["error"]), /token budget of 30 tokens/);
  assert.equal(llm.calls.length, 1);
});

test("upstream 500 then 429 reach the program in the provider's shape; LangChain's retries then succeed", async () => {
  llm.failNext(500, 429);
  const retried = await run(
    `return {"out": ChatOpenAI(model="gpt-4o-mini", max_retries=2).invoke("hi").content}`,
    {},
    LLM_CALLS,
  );
  assert.equal(retried["status"], "success", JSON.stringify(retried));
  assert.deepEqual(
    llm.calls.map((c) => c.status),
    [500, 429, 200],
  );
  assert.equal(retried.result!.metadata["tokens_used"], llm.totalTokens());

  llm.reset();
  llm.failNext(500);
  const failed = await run(`return {"out": gpt.invoke("hi").content}`, {}, LLM_CALLS);
  assert.equal(failed["status"], "error");
  assert.equal(failed["error_type"], "program_error");
  assert.match(String(failed["error"]), /InternalServerError|Error code: 500/);
});

test("calls without a live execution credential are refused", async () => {
  const url = `${engine.app.engine.gateway.url}/openai/v1/chat/completions`;
  const body = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
  const attempts: Record<string, string>[] = [
    {},
    { authorization: "Bearer gbx-made-up" },
    { authorization: `Bearer ${OPENAI_KEY}` },
  ];
  for (const headers of attempts) {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    assert.equal(response.status, 401);
    const error = (await response.json()) as { error: { message: string } };
    assert.match(error.error.message, /no live execution credential/);
  }
  assert.equal(llm.calls.length, 0);
  // An execution's credential dies with it.
  const leak = await run(`import os\nreturn {"out": os.environ["OPENAI_API_KEY"]}`);
  const credential = (leak.result as unknown as { state: { out: string } }).state.out;
  const late = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${credential}` },
    body,
  });
  assert.equal(late.status, 401);
});

test("a provider without a key and a model off the allowlist get clear errors", async () => {
  const strict = await startEngine(undefined, {
    openai: { baseUrl: llm.openaiBaseUrl, apiKey: null },
    anthropic: { baseUrl: llm.anthropicBaseUrl, apiKey: ANTHROPIC_KEY },
    modelAllowlist: ["claude-*"],
  });
  try {
    const post = (code: string) =>
      strict.post("/execute-langgraph", { code: pythonGraph(code, LLM_CALLS), language: "python", inputs: {} });
    const noKey = (await post(`return {"out": gpt.invoke("hi").content}`)).body;
    assert.equal(noKey["error_type"], "program_error");
    assert.match(String(noKey["error"]), /no OPENAI_API_KEY configured/);
    const onList = (await post(`return {"out": claude.invoke("hi").content}`)).body;
    assert.equal(onList["status"], "success", JSON.stringify(onList));
    const blocked = await strict.post("/execute-langgraph", {
      code: pythonGraph(
        `return {"out": ChatAnthropic(model="gpt-4o", max_tokens=10, max_retries=0).invoke("hi").content}`,
        LLM_CALLS,
      ),
      language: "python",
      inputs: {},
    });
    assert.match(String(blocked.body["error"]), /model gpt-4o is not in this engine's allowlist/);
  } finally {
    await strict.close();
  }
  assert.equal(llm.calls.filter((c) => c.model === "gpt-4o").length, 0);
});
