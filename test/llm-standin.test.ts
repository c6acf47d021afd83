/**
 * Proves the LLM stand-in against the REAL Python clients (langchain_openai,
 * langchain_anthropic, openai, anthropic) from the runtime's .venv, plus a few wire-level
 * checks over fetch for details the clients hide (stream usage opt-in, error
 * shapes, event order).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { loadConfig } from "../src/config/index.ts";
import { apiKeyOf, startLlmStandIn, type LlmStandIn, type Provider, type RecordedCall } from "./support/llm-standin.ts";

const PYTHON = loadConfig({}).pythonPath;
const OPENAI_KEY = "sk-standin-openai";
const ANTHROPIC_KEY = "sk-ant-standin";

const said = (text: string) => `Hello from the stand-in! You said: ${text}`;

// One Python process runs everything, in order. The first two calls meet
// failNext(500, 500), the third meets the 429 and retries once.
const PYTHON_SCRIPT = `
import json
import anthropic, openai
from langchain_anthropic import ChatAnthropic
from langchain_core.messages import HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

@tool
def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b

reported = []  # total_tokens of every successful call, as the clients saw them

def usage_of(msg):
    if msg.usage_metadata:
        reported.append(msg.usage_metadata["total_tokens"])
    return msg.usage_metadata

def merge(chunks):
    full = None
    for chunk in chunks:
        full = chunk if full is None else full + chunk
    return full

def failure(fn):
    try:
        fn()
    except Exception as e:
        return {"type": type(e).__name__, "message": str(e), "body": getattr(e, "body", None)}
    return None

def exercise(model):
    answer = model.invoke("Say hello to the stand-in")
    chunks = list(model.stream("Stream this sentence please"))
    streamed = merge(chunks)
    bound = model.bind_tools([multiply])
    question = HumanMessage("What is 6 times 7?")
    ai = bound.invoke([question])
    results = [ToolMessage(str(multiply.invoke(c["args"])), tool_call_id=c["id"]) for c in ai.tool_calls]
    final = bound.invoke([question, ai, *results])
    streamed_call = merge(bound.stream("What is 8 times 9?"))
    return {
        "invoke": {"text": str(answer.text), "usage": usage_of(answer)},
        "stream": {"pieces": [str(c.text) for c in chunks if c.text], "text": str(streamed.text), "usage": usage_of(streamed)},
        "tool_call": {"tool_calls": ai.tool_calls, "usage": usage_of(ai)},
        "tool_answer": {"text": str(final.text), "usage": usage_of(final)},
        "tool_stream": {"tool_calls": streamed_call.tool_calls, "usage": usage_of(streamed_call)},
    }

out = {}
out["errors"] = {
    "openai": failure(lambda: ChatOpenAI(model="gpt-4o-mini", max_retries=0).invoke("This call fails")),
    "anthropic": failure(lambda: ChatAnthropic(model="claude-sonnet-4-5", max_tokens=256, max_retries=0).invoke("This call fails")),
}
retried = ChatOpenAI(model="gpt-4o-mini", max_retries=1).invoke("Retry after a rate limit")
out["retried"] = {"text": str(retried.text), "usage": usage_of(retried)}

out["openai"] = exercise(ChatOpenAI(model="gpt-4o-mini", stream_usage=True, max_retries=0))
out["anthropic"] = exercise(ChatAnthropic(model="claude-sonnet-4-5", max_tokens=256, max_retries=0))

via_responses = ChatOpenAI(model="gpt-4o-mini", use_responses_api=True, max_retries=0)
r_invoke = via_responses.invoke("Hello through the Responses API")
r_stream = merge(via_responses.stream("Stream through the Responses API"))
out["lc_responses"] = {
    "invoke": {"text": str(r_invoke.text), "usage": usage_of(r_invoke)},
    "stream": {"text": str(r_stream.text), "usage": usage_of(r_stream)},
}

oai = openai.OpenAI(max_retries=0)
emb = oai.embeddings.create(model="text-embedding-3-small", input=["alpha", "alpha", "beta"])
reported.append(emb.usage.total_tokens)
vectors = [d.embedding for d in emb.data]
out["embeddings"] = {
    "count": len(vectors),
    "dims": len(vectors[0]),
    "norm": sum(x * x for x in vectors[0]),
    "same_text_same_vector": vectors[0] == vectors[1],
    "different_text_differs": vectors[0] != vectors[2],
    "usage": emb.usage.model_dump(),
}
resp = oai.responses.create(model="gpt-4o-mini", input="Hello bare SDK")
reported.append(resp.usage.total_tokens)
out["responses"] = {"text": resp.output_text, "usage": resp.usage.model_dump()}
out["models"] = [m.id for m in oai.models.list()]

ant = anthropic.Anthropic(max_retries=0)
with ant.messages.stream(model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "Stream through the SDK"}]) as stream:
    message = stream.get_final_message()
reported.append(message.usage.input_tokens + message.usage.output_tokens)
out["anthropic_sdk_stream"] = {
    "text": message.content[0].text,
    "stop_reason": message.stop_reason,
    "usage": {"input_tokens": message.usage.input_tokens, "output_tokens": message.usage.output_tokens},
}
out["count_tokens"] = ant.messages.count_tokens(
    model="claude-sonnet-4-5", messages=[{"role": "user", "content": "Say hello to the stand-in"}]
).input_tokens

out["reported_total"] = sum(reported)
print(json.dumps(out))
`;

// --- shape of the Python report (trusted: we wrote the script) ---

interface ClientUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}
interface TextResult {
  text: string;
  usage: ClientUsage;
}
interface ToolCall {
  name: string;
  args: Record<string, unknown>;
  id: string;
}
interface ToolResult {
  tool_calls: ToolCall[];
  usage: ClientUsage;
}
interface ClientError {
  type: string;
  message: string;
  /** The SDK's parsed error body. */
  body: unknown;
}
interface Exercise {
  invoke: TextResult;
  stream: TextResult & { pieces: string[] };
  tool_call: ToolResult;
  tool_answer: TextResult;
  tool_stream: ToolResult;
}
interface PythonReport {
  errors: { openai: ClientError | null; anthropic: ClientError | null };
  retried: TextResult;
  openai: Exercise;
  anthropic: Exercise;
  lc_responses: { invoke: TextResult; stream: TextResult };
  embeddings: {
    count: number;
    dims: number;
    norm: number;
    same_text_same_vector: boolean;
    different_text_differs: boolean;
    usage: { prompt_tokens: number; total_tokens: number };
  };
  responses: { text: string; usage: ClientUsage };
  models: string[];
  anthropic_sdk_stream: { text: string; stop_reason: string; usage: { input_tokens: number; output_tokens: number } };
  count_tokens: number;
  reported_total: number;
}

/** Runs the script without blocking this process's event loop, which is serving the stand-in. */
function runPython(standIn: LlmStandIn): Promise<PythonReport> {
  const env: NodeJS.ProcessEnv = {};
  // Drop ambient provider/LangSmith settings so only the stand-in is reachable.
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(OPENAI|ANTHROPIC|LANGSMITH|LANGCHAIN)_/.test(name)) env[name] = value;
  }
  Object.assign(env, {
    OPENAI_BASE_URL: standIn.openaiBaseUrl,
    OPENAI_API_BASE: standIn.openaiBaseUrl,
    OPENAI_API_KEY: OPENAI_KEY,
    ANTHROPIC_BASE_URL: standIn.anthropicBaseUrl,
    ANTHROPIC_API_URL: standIn.anthropicBaseUrl,
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    LANGSMITH_TRACING: "false",
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
    PYTHONUNBUFFERED: "1",
  });

  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ["-c", PYTHON_SCRIPT], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`python exited with ${code}:\n${stderr}`));
      const lastLine = stdout.trim().split("\n").at(-1) ?? "";
      try {
        resolve(JSON.parse(lastLine) as PythonReport);
      } catch {
        reject(new Error(`python printed no JSON report:\n${stdout}\n${stderr}`));
      }
    });
  });
}

/** Successful, billed calls (so not count_tokens) to `provider` whose request mentions `prompt`, in arrival order. */
function callsWith(standIn: LlmStandIn, provider: Provider, prompt: string): RecordedCall[] {
  return standIn.calls.filter(
    (c) => c.provider === provider && c.status === 200 && c.usage !== null && JSON.stringify(c.body).includes(prompt),
  );
}

function onlyCall(standIn: LlmStandIn, provider: Provider, prompt: string): RecordedCall {
  const matches = callsWith(standIn, provider, prompt);
  assert.equal(matches.length, 1, `expected one ${provider} call mentioning ${JSON.stringify(prompt)}`);
  return matches[0]!;
}

function assertSameUsage(client: ClientUsage, call: RecordedCall | undefined, what: string): void {
  assert.ok(call?.usage, `${what}: stand-in recorded usage`);
  assert.deepEqual(
    { input_tokens: client.input_tokens, output_tokens: client.output_tokens, total_tokens: client.total_tokens },
    call.usage,
    `${what}: client usage_metadata equals what the stand-in reported`,
  );
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter(Boolean).length;
}

test("real Python LangChain clients and SDKs work against the stand-in", { timeout: 120_000 }, async () => {
  const standIn = await startLlmStandIn();
  try {
    standIn.failNext(500, 500, 429);
    const report = await runPython(standIn);

    // Injected failures reach the client as the provider's own error.
    const [openaiFail, anthropicFail, rateLimited, retry] = standIn.calls;
    assert.deepEqual(
      [openaiFail?.status, anthropicFail?.status, rateLimited?.status, retry?.status],
      [500, 500, 429, 200],
    );
    // langchain-openai/-anthropic re-raise SDK errors as their own classes
    // (OpenAIAPIError, AnthropicAPIError) but keep the SDK's message, body included.
    assert.match(report.errors.openai?.type ?? "", /Error$/);
    assert.match(report.errors.openai?.message ?? "", /Error code: 500/);
    assert.match(report.errors.openai?.message ?? "", /The server had an error while processing your request/);
    assert.match(report.errors.anthropic?.type ?? "", /Error$/);
    assert.match(report.errors.anthropic?.message ?? "", /Error code: 500/);
    assert.match(report.errors.anthropic?.message ?? "", /Internal server error/);
    // The SDKs hand back the body they parsed: OpenAI's is the inner `error` object, Anthropic's the whole envelope.
    assert.deepEqual(report.errors.openai?.body, {
      message: "The server had an error while processing your request. Sorry about that!",
      type: "server_error",
      param: null,
      code: null,
    });
    const { request_id: requestId, ...anthropicBody } = (report.errors.anthropic?.body ?? {}) as Record<
      string,
      unknown
    >;
    assert.deepEqual(anthropicBody, { type: "error", error: { type: "api_error", message: "Internal server error" } });
    assert.match(String(requestId), /^req_\d+$/);
    // The 429 was retried by the SDK itself, which says so in a header.
    assert.equal(retry?.headers["x-stainless-retry-count"], "1");
    assert.equal(report.retried.text, said("Retry after a rate limit"));
    assertSameUsage(report.retried.usage, retry, "retried call");

    for (const provider of ["openai", "anthropic"] as const) {
      const r = report[provider];

      // Plain invoke, with the token formula checked by hand once:
      // 25 chars -> ceil(25/4) = 7, + 3 for one message = 10 in; 11 words out.
      assert.equal(r.invoke.text, said("Say hello to the stand-in"), `${provider} invoke text`);
      assert.deepEqual(
        {
          input: r.invoke.usage.input_tokens,
          output: r.invoke.usage.output_tokens,
          total: r.invoke.usage.total_tokens,
        },
        { input: 10, output: 11, total: 21 },
        `${provider} invoke usage follows the formula`,
      );
      assertSameUsage(r.invoke.usage, onlyCall(standIn, provider, "Say hello to the stand-in"), `${provider} invoke`);

      // Streaming: word-sized deltas that join to exactly the full reply.
      const streamCall = onlyCall(standIn, provider, "Stream this sentence please");
      const expectedStream = said("Stream this sentence please");
      assert.equal(streamCall.stream, true);
      assert.equal(r.stream.text, expectedStream, `${provider} merged stream text`);
      assert.equal(r.stream.pieces.join(""), expectedStream, `${provider} stream pieces join to the reply`);
      assert.equal(r.stream.pieces.length, wordCount(expectedStream), `${provider} streams one piece per word`);
      assertSameUsage(r.stream.usage, streamCall, `${provider} stream`);

      // Tool round: call multiply, then turn the tool result into the answer.
      const [toolCallCall, toolAnswerCall] = callsWith(standIn, provider, "What is 6 times 7?");
      const idPrefix = provider === "openai" ? "call_" : "toolu_";
      assert.equal(r.tool_call.tool_calls.length, 1);
      assert.equal(r.tool_call.tool_calls[0]?.name, "multiply");
      assert.deepEqual(r.tool_call.tool_calls[0]?.args, { a: 6, b: 7 });
      assert.ok(
        r.tool_call.tool_calls[0]?.id.startsWith(idPrefix),
        `${provider} tool call id ${r.tool_call.tool_calls[0]?.id}`,
      );
      assert.equal(r.tool_call.usage.output_tokens, 5, "5 output tokens per tool call");
      assertSameUsage(r.tool_call.usage, toolCallCall, `${provider} tool call`);
      assert.equal(r.tool_answer.text, "The answer is 42.");
      assertSameUsage(r.tool_answer.usage, toolAnswerCall, `${provider} tool answer`);

      // Streamed tool call: argument deltas reassemble into the same arguments.
      const toolStreamCall = onlyCall(standIn, provider, "What is 8 times 9?");
      assert.equal(toolStreamCall.stream, true);
      assert.deepEqual(
        r.tool_stream.tool_calls.map((c) => ({ name: c.name, args: c.args })),
        [{ name: "multiply", args: { a: 8, b: 9 } }],
      );
      assertSameUsage(r.tool_stream.usage, toolStreamCall, `${provider} tool stream`);
    }

    // LangChain over the Responses API, non-streaming and streaming.
    assert.equal(report.lc_responses.invoke.text, said("Hello through the Responses API"));
    assertSameUsage(
      report.lc_responses.invoke.usage,
      onlyCall(standIn, "openai", "Hello through the Responses API"),
      "responses invoke",
    );
    assert.equal(report.lc_responses.stream.text, said("Stream through the Responses API"));
    const responsesStreamCall = onlyCall(standIn, "openai", "Stream through the Responses API");
    assert.equal(responsesStreamCall.path, "/v1/responses");
    assert.equal(responsesStreamCall.stream, true);
    assertSameUsage(report.lc_responses.stream.usage, responsesStreamCall, "responses stream");

    // Bare SDKs. The Python SDK requests base64 embeddings by default; these decode to unit vectors.
    assert.equal(report.embeddings.count, 3);
    assert.equal(report.embeddings.dims, 1536);
    assert.ok(Math.abs(report.embeddings.norm - 1) < 1e-4, `unit vector, norm² = ${report.embeddings.norm}`);
    assert.equal(report.embeddings.same_text_same_vector, true);
    assert.equal(report.embeddings.different_text_differs, true);
    assert.deepEqual(report.embeddings.usage, { prompt_tokens: 5, total_tokens: 5 }); // ceil(5/4) × 2 ("alpha") + ceil(4/4) ("beta")
    assert.equal(report.responses.text, said("Hello bare SDK"));
    assert.equal(
      report.responses.usage.total_tokens,
      onlyCall(standIn, "openai", "Hello bare SDK").usage?.total_tokens,
    );
    assert.ok(report.models.includes("gpt-4o-mini"));
    assert.equal(report.anthropic_sdk_stream.text, said("Stream through the SDK"));
    assert.equal(report.anthropic_sdk_stream.stop_reason, "end_turn");
    const sdkStreamCall = onlyCall(standIn, "anthropic", "Stream through the SDK");
    assert.equal(report.anthropic_sdk_stream.usage.input_tokens, sdkStreamCall.usage?.input_tokens);
    assert.equal(report.anthropic_sdk_stream.usage.output_tokens, sdkStreamCall.usage?.output_tokens);
    assert.equal(report.count_tokens, 10, "count_tokens agrees with the invoke input tokens");

    // Every token the stand-in billed reached a client, and nothing else.
    assert.equal(standIn.totalTokens(), report.reported_total);

    // Keys arrived in each provider's auth header. anthropic 2.x sends its key as
    // `Authorization: Bearer`; older SDKs used `x-api-key`. apiKeyOf() accepts either.
    for (const call of standIn.calls) {
      if (call.provider === "openai") {
        assert.equal(call.headers.authorization, `Bearer ${OPENAI_KEY}`, `${call.path} auth header`);
      } else {
        assert.equal(apiKeyOf(call), ANTHROPIC_KEY, `${call.path} key`);
        assert.ok(
          call.headers["x-api-key"] === ANTHROPIC_KEY || call.headers.authorization === `Bearer ${ANTHROPIC_KEY}`,
          `${call.path} carries the key in x-api-key or Authorization`,
        );
        assert.ok(call.headers["anthropic-version"], "anthropic-version header sent");
      }
    }
    assert.equal(standIn.calls.filter((c) => c.provider === "anthropic").length > 0, true);
  } finally {
    await standIn.close();
  }
});

// --- wire-level details, over plain fetch ---

interface SseFrame {
  event: string | undefined;
  data: string;
}

function parseSse(text: string): SseFrame[] {
  return text
    .split("\n\n")
    .filter((frame) => frame.trim() !== "")
    .map((frame) => {
      const lines = frame.split("\n");
      const event = lines.find((l) => l.startsWith("event: "))?.slice("event: ".length);
      const data = lines.find((l) => l.startsWith("data: "))?.slice("data: ".length) ?? "";
      return { event, data };
    });
}

function post(url: string, body: unknown, headers: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

const openaiAuth = { authorization: `Bearer ${OPENAI_KEY}` };
const anthropicAuth = { "x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01" };

test("wire details: stream usage opt-in, event order, errors, recording", async () => {
  const standIn = await startLlmStandIn({ delayMs: 1, chunkDelayMs: 1 });
  try {
    const chat = { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: "hi there" }] };

    // Without stream_options.include_usage OpenAI sends no usage at all.
    const plain = parseSse(await (await post(`${standIn.openaiBaseUrl}/chat/completions`, chat, openaiAuth)).text());
    assert.equal(plain.at(-1)?.data, "[DONE]");
    const plainChunks = plain.slice(0, -1).map((f) => JSON.parse(f.data) as Record<string, unknown>);
    assert.ok(
      plainChunks.every((c) => !("usage" in c)),
      "no usage key when not requested",
    );

    // With it, the last chunk before [DONE] has empty choices and the usage.
    const withUsage = { ...chat, stream_options: { include_usage: true } };
    const frames = parseSse(
      await (await post(`${standIn.openaiBaseUrl}/chat/completions`, withUsage, openaiAuth)).text(),
    );
    const usageChunk = JSON.parse(frames.at(-2)?.data ?? "null") as {
      choices: unknown[];
      usage: Record<string, number>;
    };
    assert.deepEqual(usageChunk.choices, []);
    // "hi there": ceil(8/4) + 3 = 5 in; the reply has 8 words.
    assert.deepEqual(
      [usageChunk.usage.prompt_tokens, usageChunk.usage.completion_tokens, usageChunk.usage.total_tokens],
      [5, 8, 13],
    );

    // Anthropic's stream has a fixed event order, each frame named.
    const messages = {
      model: "claude-sonnet-4-5",
      max_tokens: 64,
      stream: true,
      messages: [{ role: "user", content: "hi there" }],
    };
    const events = parseSse(
      await (await post(`${standIn.anthropicBaseUrl}/v1/messages`, messages, anthropicAuth)).text(),
    );
    const names = events.map((e) => e.event);
    assert.deepEqual(names.slice(0, 3), ["message_start", "content_block_start", "ping"]);
    assert.deepEqual(names.slice(-3), ["content_block_stop", "message_delta", "message_stop"]);
    assert.ok(names.slice(3, -3).every((n) => n === "content_block_delta"));
    const delta = JSON.parse(events.at(-2)?.data ?? "null") as {
      delta: { stop_reason: string };
      usage: Record<string, number>;
    };
    assert.equal(delta.delta.stop_reason, "end_turn");
    assert.equal(delta.usage.output_tokens, 8);
    assert.equal(delta.usage.input_tokens, 5);

    // A system prompt costs the same on both providers (3 per message + its characters).
    const system = "Be brief.";
    const openaiSys = await post(
      `${standIn.openaiBaseUrl}/chat/completions`,
      {
        model: "m",
        messages: [
          { role: "system", content: system },
          { role: "user", content: "hi there" },
        ],
      },
      openaiAuth,
    );
    const anthropicSys = await post(
      `${standIn.anthropicBaseUrl}/v1/messages`,
      { model: "m", max_tokens: 9, system, messages: [{ role: "user", content: "hi there" }] },
      anthropicAuth,
    );
    const openaiSysUsage = ((await openaiSys.json()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens;
    const anthropicSysUsage = ((await anthropicSys.json()) as { usage: { input_tokens: number } }).usage.input_tokens;
    assert.equal(openaiSysUsage, Math.ceil(17 / 4) + 6);
    assert.equal(anthropicSysUsage, openaiSysUsage);

    // Missing keys, unknown paths and injected failures answer in each provider's error shape.
    const noKey = await post(`${standIn.openaiBaseUrl}/chat/completions`, chat, {});
    assert.equal(noKey.status, 401);
    const noKeyBody = (await noKey.json()) as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(noKeyBody.error).sort(), ["code", "message", "param", "type"]);
    assert.equal(noKeyBody.error.param, null);

    const noAnthropicKey = await post(`${standIn.anthropicBaseUrl}/v1/messages`, messages, {
      "anthropic-version": "2023-06-01",
    });
    assert.equal(noAnthropicKey.status, 401);
    assert.deepEqual(
      ((await noAnthropicKey.json()) as { type: string; error: { type: string } }).error.type,
      "authentication_error",
    );

    const unknown = await post(`${standIn.openaiBaseUrl}/nope`, {}, openaiAuth);
    assert.equal(unknown.status, 404);
    assert.match(((await unknown.json()) as { error: { message: string } }).error.message, /Invalid URL/);

    standIn.failNext(429, 400);
    const limited = await post(`${standIn.anthropicBaseUrl}/v1/messages`, messages, anthropicAuth);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "0");
    assert.deepEqual(
      ((await limited.json()) as { type: string; error: { type: string } }).error.type,
      "rate_limit_error",
    );
    const invalid = await post(`${standIn.openaiBaseUrl}/chat/completions`, chat, openaiAuth);
    assert.equal(invalid.status, 400);
    assert.equal(((await invalid.json()) as { error: { type: string } }).error.type, "invalid_request_error");
    const recovered = await post(`${standIn.openaiBaseUrl}/chat/completions`, { ...chat, stream: false }, openaiAuth);
    assert.equal(recovered.status, 200);

    // Every call is recorded, failures included (with null usage, so they cost nothing).
    assert.deepEqual(
      standIn.calls.map((c) => c.status),
      [200, 200, 200, 200, 200, 401, 401, 404, 429, 400, 200],
    );
    assert.ok(standIn.calls.filter((c) => c.status >= 400).every((c) => c.usage === null));
    assert.equal(
      standIn.totalTokens(),
      standIn.calls.reduce((sum, c) => sum + (c.usage?.total_tokens ?? 0), 0),
    );

    standIn.reset();
    assert.equal(standIn.calls.length, 0);
    assert.equal(standIn.totalTokens(), 0);
  } finally {
    await standIn.close();
  }
});
