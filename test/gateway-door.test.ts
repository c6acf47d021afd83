/**
 * The gateway is a narrow door: only the allowlisted calls pass, every body is metered and
 * budgeted, calls in flight reserve their share of the budget, model names are data. Through
 * real HTTP to a real engine's gateway, with the credential of an account opened on it (as an
 * execution's is) where that is simpler, and from programs inside the sandbox.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";

import type { ExecutionAccount } from "../src/gateway/accounts.ts";
import { wildcardMatch } from "../src/gateway/gateway.ts";
import { MAX_MODELS, OTHER_MODEL, UsageTotals } from "../src/gateway/meter.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { errorMessage, rawRequest } from "./support/gateway-client.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { pythonGraph, typescriptGraph } from "./support/programs.ts";

let llm: LlmStandIn;
let engine: RunningEngine;

before(async () => {
  // Each answer takes a little while, so that calls sent together are in flight together.
  llm = await startLlmStandIn({ delayMs: 100 });
  engine = await startEngine(undefined, {
    openai: { baseUrl: llm.openaiBaseUrl, apiKey: `sk-door-openai-${crypto.randomUUID()}` },
    anthropic: { baseUrl: llm.anthropicBaseUrl, apiKey: `sk-ant-door-${crypto.randomUUID()}` },
  });
});
after(async () => {
  await engine.close();
  await llm.close();
});
beforeEach(() => llm.reset());

const opened: ExecutionAccount[] = [];
after(() => opened.forEach((account) => engine.app.engine.gateway.release(account)));

/** An account on the engine's gateway, as an execution gets one, without a sandbox around it. */
function account(budget: number | null = 1_000_000): ExecutionAccount {
  const created = engine.app.engine.gateway.open(`door-${crypto.randomUUID()}`, { budget });
  opened.push(created);
  return created;
}

const gatewayUrl = (): string => engine.app.engine.gateway.url;
const auth = (a: ExecutionAccount): Record<string, string> => ({ authorization: `Bearer ${a.credential}` });
const chat = (model: string, text: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model, messages: [{ role: "user", content: text }], ...extra });

test("only the allowlisted method and path pairs are forwarded; every other call is refused by the gateway itself", async () => {
  const caller = account();
  const refused: [string, string, number][] = [
    // Stored completions: listing, reading, updating, deleting.
    ["GET", "/openai/v1/chat/completions", 405],
    ["GET", "/openai/v1/chat/completions/chatcmpl-123", 404],
    ["POST", "/openai/v1/chat/completions/chatcmpl-123", 404],
    ["DELETE", "/openai/v1/chat/completions/chatcmpl-123", 404],
    ["GET", "/openai/v1/chat/completions/chatcmpl-123/messages", 404],
    // Stored responses.
    ["GET", "/openai/v1/responses/resp_123", 404],
    ["DELETE", "/openai/v1/responses/resp_123", 404],
    ["POST", "/openai/v1/responses/resp_123/cancel", 404],
    ["GET", "/openai/v1/responses/resp_123/input_items", 404],
    // Models may be listed and read, never deleted (fine-tuned ones can be).
    ["DELETE", "/openai/v1/models/ft:gpt-4o-mini:org::abc", 405],
    ["POST", "/openai/v1/models", 405],
    // Files, fine-tuning, batches, assistants, vector stores, uploads, admin.
    ["GET", "/openai/v1/files", 404],
    ["POST", "/openai/v1/files", 404],
    ["GET", "/openai/v1/files/file-abc/content", 404],
    ["POST", "/openai/v1/fine_tuning/jobs", 404],
    ["POST", "/openai/v1/batches", 404],
    ["GET", "/openai/v1/assistants", 404],
    ["POST", "/openai/v1/vector_stores", 404],
    ["POST", "/openai/v1/uploads", 404],
    ["GET", "/openai/v1/organization/users", 404],
    // Other methods on allowed paths.
    ["PUT", "/openai/v1/chat/completions", 405],
    ["PATCH", "/openai/v1/embeddings", 405],
    ["DELETE", "/openai/v1/responses", 405],
    ["TRACE", "/openai/v1/models", 405],
    ["OPTIONS", "/openai/v1/models", 405],
    ["HEAD", "/openai/v1/models", 405],
    // Anthropic: batches, files, legacy completions, other methods.
    ["POST", "/anthropic/v1/messages/batches", 404],
    ["GET", "/anthropic/v1/messages/batches", 404],
    ["GET", "/anthropic/v1/files", 404],
    ["POST", "/anthropic/v1/complete", 404],
    ["GET", "/anthropic/v1/messages", 405],
    ["DELETE", "/anthropic/v1/models/claude-sonnet-4-5", 405],
    ["PUT", "/anthropic/v1/messages/count_tokens", 405],
    // Outside both providers.
    ["GET", "/v1/models", 404],
    ["POST", "/openai/v2/chat/completions", 404],
  ];
  for (const [method, path, status] of refused) {
    const body = method === "GET" || method === "HEAD" || method === "TRACE" ? undefined : chat("gpt-4o-mini", "hi");
    const answer = await rawRequest(gatewayUrl(), method, path, {
      headers: { ...auth(caller), "content-type": "application/json" },
      body,
    });
    assert.equal(answer.status, status, `${method} ${path}: ${answer.text}`);
    if (method !== "HEAD")
      assert.match(
        errorMessage(answer),
        /graphbox gateway: .*not forwarded|no provider at this path/,
        `${method} ${path}`,
      );
    if (status === 405) assert.ok(answer.headers["allow"], `${method} ${path} names the methods it allows`);
  }
  assert.equal(llm.calls.length, 0, "the provider saw none of them");

  // And the allowlisted ones do reach it, at the same path below the base URL.
  const anthropic = {
    "x-api-key": caller.credential,
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
  };
  const passed: [string, string, Record<string, string>, string | undefined][] = [
    ["POST", "/openai/v1/chat/completions", auth(caller), chat("gpt-4o-mini", "hi")],
    ["POST", "/openai/v1/completions", auth(caller), JSON.stringify({ model: "gpt-3.5-turbo-instruct", prompt: "hi" })],
    ["POST", "/openai/v1/responses", auth(caller), JSON.stringify({ model: "gpt-4o-mini", input: "hi" })],
    ["POST", "/openai/v1/embeddings", auth(caller), JSON.stringify({ model: "text-embedding-3-small", input: "hi" })],
    ["GET", "/openai/v1/models", auth(caller), undefined],
    ["GET", "/openai/v1/models/gpt-4o-mini", auth(caller), undefined],
    [
      "POST",
      "/anthropic/v1/messages?beta=true",
      anthropic,
      JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }),
    ],
    [
      "POST",
      "/anthropic/v1/messages/count_tokens",
      anthropic,
      JSON.stringify({ model: "claude-sonnet-4-5", messages: [{ role: "user", content: "hi" }] }),
    ],
    ["GET", "/anthropic/v1/models?limit=5", anthropic, undefined],
    ["GET", "/anthropic/v1/models/claude-sonnet-4-5", anthropic, undefined],
  ];
  for (const [method, path, headers, body] of passed) {
    const answer = await rawRequest(gatewayUrl(), method, path, {
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    assert.doesNotMatch(answer.text, /graphbox gateway/, `${method} ${path}`);
  }
  assert.deepEqual(
    llm.calls.map((c) => c.path),
    [
      "/v1/chat/completions",
      "/v1/completions",
      "/v1/responses",
      "/v1/embeddings",
      "/v1/models",
      "/v1/models/gpt-4o-mini",
      "/v1/messages",
      "/v1/messages/count_tokens",
      "/v1/models",
      "/v1/models/claude-sonnet-4-5",
    ],
  );
});

test("dot, empty, percent-encoded and backslash path segments are refused before matching (400), never forwarded", async () => {
  const caller = account();
  const paths = [
    "/openai/v1/models/..",
    "/openai/v1/models/.",
    "/openai/v1/models/../files",
    "/openai/v1/chat/completions/..",
    "/openai/v1/./models",
    "/openai/v1//models",
    "/openai/v1/models/",
    "/openai/v1/%2e%2e/models",
    "/openai/v1/models/%2e%2e",
    "/openai/v1/models/%2E%2E",
    "/openai/v1/models%2f..",
    "/openai/v1/models/..%2f..%2fv1",
    "/openai/v1/models/%5c..",
    "/openai/v1/models\\..",
    "/openai/v1/models/gpt-4o-mini%00",
    "/anthropic/v1/models/..",
    "/anthropic/../v1/models",
    "/anthropic/v1/messages/%2e%2e/batches",
    "/anthropic//v1/messages",
  ];
  for (const path of paths) {
    const method = path.includes("completions") || path.includes("messages") ? "POST" : "GET";
    const answer = await rawRequest(gatewayUrl(), method, path, {
      headers: { ...auth(caller), "content-type": "application/json" },
      body: method === "POST" ? chat("gpt-4o-mini", "hi") : undefined,
    });
    assert.equal(answer.status, 400, `${path}: ${answer.text}`);
    assert.match(errorMessage(answer), /graphbox gateway: refused/, path);
  }
  assert.equal(llm.calls.length, 0, "the provider saw none of them");
  // The gateway still serves the account afterwards.
  const models = await rawRequest(gatewayUrl(), "GET", "/openai/v1/models", { headers: auth(caller) });
  assert.equal(models.status, 200, models.text);
});

test("a JSON body sent as text/plain is parsed, forwarded as JSON, metered and budgeted; a body that is not JSON gets 415", async () => {
  const caller = account(20);
  const answer = await rawRequest(gatewayUrl(), "POST", "/openai/v1/chat/completions", {
    headers: { ...auth(caller), "content-type": "text/plain" },
    body: chat("gpt-4o-mini", "count every one of these words please, all of them", { max_tokens: 20 }),
  });
  assert.equal(answer.status, 200, answer.text);
  assert.equal(llm.calls.length, 1);
  assert.equal(llm.calls[0]!.headers["content-type"], "application/json");
  const used = llm.totalTokens();
  assert.ok(used > 20, `the stand-in reported ${used} tokens`);
  assert.equal(caller.usage.totalTokens, used, "charged what the provider reported");
  assert.equal(caller.exceeded, true, "the call took the execution over its budget of 20");
  const next = await rawRequest(gatewayUrl(), "POST", "/openai/v1/chat/completions", {
    headers: { ...auth(caller), "content-type": "text/plain" },
    body: chat("gpt-4o-mini", "again"),
  });
  assert.equal(next.status, 403);
  assert.match(errorMessage(next), /token budget of 20 tokens is used up/);

  const other = account();
  for (const [contentType, body, status] of [
    ["text/plain", "model=gpt-4o-mini&messages=hi", 415],
    ["application/x-www-form-urlencoded", "model=gpt-4o-mini", 415],
    ["application/json", "[1, 2, 3]", 400],
    ["application/json", "", 400],
  ] as const) {
    const refused = await rawRequest(gatewayUrl(), "POST", "/openai/v1/chat/completions", {
      headers: { ...auth(other), "content-type": contentType },
      body,
    });
    assert.equal(refused.status, status, `${contentType} ${body}: ${refused.text}`);
  }
  const gzipped = await rawRequest(gatewayUrl(), "POST", "/openai/v1/chat/completions", {
    headers: { ...auth(other), "content-type": "application/json", "content-encoding": "gzip" },
    body: chat("gpt-4o-mini", "hi"),
  });
  assert.equal(gzipped.status, 415);
  assert.equal(llm.calls.length, 1, "none of the refused bodies was forwarded");
});

test("what is forwarded is what was checked: one model key, the engine's headers, never the program's organisation", async () => {
  const caller = account();
  const body = `{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "model": "gpt-4o"}`;
  const answer = await rawRequest(gatewayUrl(), "POST", "/openai/v1/chat/completions", {
    headers: {
      ...auth(caller),
      "content-type": "application/json",
      "openai-organization": "org-someone-else",
      "openai-project": "proj_x",
      cookie: "a=b",
      "x-stainless-lang": "python",
    },
    body,
  });
  assert.equal(answer.status, 200, answer.text);
  const seen = llm.calls[0]!;
  assert.equal(seen.model, "gpt-4o", "the model JSON.parse read is the model the provider got");
  assert.equal((JSON.stringify(seen.body).match(/"model"/g) ?? []).length, 1);
  assert.equal(seen.headers["openai-organization"], undefined);
  assert.equal(seen.headers["openai-project"], undefined);
  assert.equal(seen.headers["cookie"], undefined);
  assert.equal(seen.headers["x-stainless-lang"], "python");
});

test("parallel calls reserve their share of the budget: together they never spend more than it", async () => {
  const budget = 150;
  const caller = account(budget);
  const text = "please answer this short question";
  const results = await Promise.all(
    Array.from({ length: 12 }, () =>
      rawRequest(gatewayUrl(), "POST", "/openai/v1/chat/completions", {
        headers: { ...auth(caller), "content-type": "application/json" },
        body: chat("gpt-4o-mini", text, { max_tokens: 40 }),
      }),
    ),
  );
  const statuses = results.map((r) => r.status);
  const admitted = statuses.filter((s) => s === 200).length;
  const waited = results.filter((r) => r.status === 429);
  assert.equal(admitted + waited.length, 12, JSON.stringify(statuses));
  assert.ok(
    admitted >= 1 && waited.length >= 1,
    `some calls run, the others are told to wait: ${JSON.stringify(statuses)}`,
  );
  for (const refusal of waited) {
    assert.match(
      errorMessage(refusal),
      /does not fit in what the execution's budget of 150 tokens has left besides its calls in flight/,
    );
    assert.equal(refusal.headers["retry-after"], "1");
  }
  assert.equal(llm.calls.length, admitted, "the provider saw only the admitted calls");
  // Each call reserves ceil(body bytes / 4) + 40 = 68 tokens and uses ~23. Checked only at their start,
  // as before, all 12 would have run: ~276 tokens of a budget of 150.
  const spent = llm.totalTokens();
  assert.ok(spent <= budget, `spent ${spent} of ${budget}`);
  assert.equal(caller.usage.totalTokens, spent);
  assert.equal(caller.reserved, 0, "every reservation was settled");
  assert.equal(caller.exceeded, false);

  // Once they are over, the budget left is there again for the next call.
  const later = await rawRequest(gatewayUrl(), "POST", "/openai/v1/chat/completions", {
    headers: { ...auth(caller), "content-type": "application/json" },
    body: chat("gpt-4o-mini", text, { max_tokens: 40 }),
  });
  assert.equal(later.status, 200, later.text);
});

test("a call whose estimate exceeds the budget still runs when it runs alone; the one that takes the execution over ends it", async () => {
  const caller = account(30);
  const body = JSON.stringify({
    model: "claude-sonnet-4-5",
    max_tokens: 1024,
    messages: [
      {
        role: "user",
        content: "hello there, this message has enough words in it to cost more than thirty tokens once answered",
      },
    ],
  });
  const headers = {
    "x-api-key": caller.credential,
    "anthropic-version": "2023-06-01",
    "content-type": "application/json",
  };
  const first = await rawRequest(gatewayUrl(), "POST", "/anthropic/v1/messages", { headers, body });
  assert.equal(first.status, 200, first.text);
  assert.equal(caller.usage.totalTokens, llm.totalTokens());
  assert.equal(caller.exceeded, true);
  const second = await rawRequest(gatewayUrl(), "POST", "/anthropic/v1/messages", { headers, body });
  assert.equal(second.status, 403);
  assert.equal(llm.calls.length, 1);
});

test("a model named __proto__ is one more model: no prototype is polluted and the next executions are served", async () => {
  const caller = account();
  for (const model of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
    const answer = await rawRequest(gatewayUrl(), "POST", "/openai/v1/chat/completions", {
      headers: { ...auth(caller), "content-type": "application/json" },
      body: chat(model, "hi"),
    });
    assert.equal(answer.status, 200, answer.text);
  }
  assert.equal(({} as Record<string, unknown>)["input_tokens"], undefined);
  assert.equal(({} as Record<string, unknown>)["calls"], undefined);
  const snapshot = caller.usage.snapshot();
  assert.equal(Object.getPrototypeOf(snapshot.by_model), null);
  assert.deepEqual(Object.keys(snapshot.by_model), ["__proto__", "constructor", "toString", "hasOwnProperty"]);
  assert.equal(snapshot.by_model["__proto__"]?.calls, 1);
  assert.equal(JSON.parse(JSON.stringify(snapshot)).by_model.__proto__.calls, 1, "written as an ordinary field");

  // The harness's usage message goes through the same totals.
  const reported = new UsageTotals();
  reported.add({ model: "__proto__", input_tokens: 5, output_tokens: 1, total_tokens: 6 });
  assert.equal(({} as Record<string, unknown>)["output_tokens"], undefined);
  assert.equal(reported.snapshot().by_model["__proto__"]?.total_tokens, 6);

  // From a program, with the model echoed back by the provider; then an ordinary execution.
  const program = pythonGraph(`from langchain_openai import ChatOpenAI
return {"out": ChatOpenAI(model="__proto__", max_retries=0).invoke("hi").content}`);
  const polluting = await engine.post("/execute-langgraph", { code: program, language: "python", inputs: {} });
  assert.equal(polluting.status, 200);
  assert.equal(polluting.body["status"], "success", JSON.stringify(polluting.body));
  const metadata = (
    polluting.body["result"] as { metadata: { token_usage: { by_model: Record<string, { calls: number }> } } }
  ).metadata;
  assert.ok(Object.hasOwn(metadata.token_usage.by_model, "__proto__"));
  assert.equal(metadata.token_usage.by_model["__proto__"]?.calls, 1);
  assert.equal(({} as Record<string, unknown>)["input_tokens"], undefined);
  const ordinary = await engine.post("/execute-langgraph", {
    code: pythonGraph(`return {"out": "fine"}`),
    language: "python",
    inputs: {},
  });
  assert.equal(ordinary.status, 200, JSON.stringify(ordinary.body));
  assert.equal(ordinary.body["status"], "success");
  const metrics = await fetch(`${engine.url}/metrics`);
  assert.equal(metrics.status, 200);
  assert.match(
    await metrics.text(),
    /graphbox_llm_calls_total\{provider="openai",model="__proto__",status="200"\} [1-9]/,
  );
});

test("an execution's usage keeps at most 64 models apart; later ones share `other`", () => {
  const totals = new UsageTotals();
  for (let i = 0; i < 100; i++) totals.add({ model: `model-${i}`, input_tokens: 1, output_tokens: 1, total_tokens: 2 });
  const byModel = totals.snapshot().by_model;
  assert.equal(Object.keys(byModel).length, MAX_MODELS);
  assert.equal(byModel[OTHER_MODEL]?.calls, 100 - (MAX_MODELS - 1));
  assert.equal(totals.totalTokens, 200);
});

test("a program's own urllib calls: refused methods and paths, text/plain JSON metered and budgeted", async () => {
  // What a hostile program does: no SDK, the gateway's URL and credential from its environment.
  const code = pythonGraph(`import json, os, urllib.request, urllib.error
base = os.environ["OPENAI_BASE_URL"]
key = os.environ["OPENAI_API_KEY"]
def call(method, path, body=None, content_type="application/json"):
    request = urllib.request.Request(base + path, data=body, method=method, headers={"Authorization": "Bearer " + key, "Content-Type": content_type})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
statuses = {
    "list_stored": call("GET", "/chat/completions"),
    "delete_model": call("DELETE", "/models/ft:gpt-4o-mini:org::abc"),
    "read_response": call("GET", "/responses/resp_123"),
    "files": call("GET", "/files"),
    "dot_dot": call("GET", "/models/.."),
    "encoded": call("GET", "/models/%2e%2e"),
}
body = json.dumps({"model": "gpt-4o-mini", "max_tokens": 20, "messages": [{"role": "user", "content": "a text/plain body that counts all the same"}]}).encode()
statuses["text_plain"] = call("POST", "/chat/completions", body, "text/plain")
statuses["after"] = call("POST", "/chat/completions", body, "text/plain")
return {"out": json.dumps(statuses)}`);
  const { status, body } = await engine.post("/execute-langgraph", {
    code,
    language: "python",
    inputs: {},
    config: { max_tokens: 20 },
  });
  assert.equal(status, 200);
  // The first text/plain call takes the execution over its budget of 20 and ends it.
  assert.equal(body["status"], "error", JSON.stringify(body));
  assert.equal(body["error_type"], "token_budget");
  const metadata = body["metadata"] as { tokens_used: number };
  assert.equal(
    llm.calls.length,
    1,
    `only the one POST reached the provider: ${JSON.stringify(llm.calls.map((c) => c.path))}`,
  );
  assert.equal(metadata.tokens_used, llm.totalTokens());
  assert.ok(metadata.tokens_used > 20);

  // The same program's refusals, read from its own answer, with a budget it stays within.
  llm.reset();
  const within = await engine.post("/execute-langgraph", {
    code,
    language: "python",
    inputs: {},
    config: { max_tokens: 100_000 },
  });
  assert.equal(within.body["status"], "success", JSON.stringify(within.body));
  const statuses = JSON.parse((within.body["result"] as { state: { out: string } }).state.out) as Record<
    string,
    number
  >;
  assert.deepEqual(statuses, {
    list_stored: 405,
    delete_model: 405,
    read_response: 404,
    files: 404,
    dot_dot: 400,
    encoded: 400,
    text_plain: 200,
    after: 200,
  });
  assert.deepEqual(
    llm.calls.map((c) => c.path),
    ["/v1/chat/completions", "/v1/chat/completions"],
  );
  assert.equal(
    (within.body["result"] as { metadata: { tokens_used: number } }).metadata.tokens_used,
    llm.totalTokens(),
  );
});

test("a TypeScript program's fetch and ChatOpenAI: refused calls stay refused, a __proto__ model is counted as data", async () => {
  const code = typescriptGraph(
    `const base = process.env.OPENAI_BASE_URL!;
const headers = { authorization: "Bearer " + process.env.OPENAI_API_KEY, "content-type": "text/plain" };
const statuses: Record<string, number> = {};
statuses.list_stored = (await fetch(base + "/chat/completions", { headers })).status;
statuses.delete_response = (await fetch(base + "/responses/resp_1", { method: "DELETE", headers })).status;
statuses.batches = (await fetch(base + "/batches", { method: "POST", headers, body: "{}" })).status;
// fetch resolves the dot segment itself: what arrives is /openai/v1/, an empty segment.
statuses.dot_dot = (await fetch(base + "/models/..", { headers })).status;
const reply = await new ChatOpenAI({ model: "__proto__", maxRetries: 0 }).invoke("hi");
return { out: JSON.stringify({ statuses, reply: String(reply.content).slice(0, 5) }) };`,
    `import { ChatOpenAI } from "@langchain/openai";`,
  );
  const { body } = await engine.post("/execute-langgraph", { code, language: "typescript", inputs: {} });
  assert.equal(body["status"], "success", JSON.stringify(body));
  const result = body["result"] as {
    state: { out: string };
    metadata: { tokens_used: number; token_usage: { by_model: Record<string, { calls: number }> } };
  };
  assert.deepEqual(JSON.parse(result.state.out), {
    statuses: { list_stored: 405, delete_response: 404, batches: 404, dot_dot: 400 },
    reply: "Hello",
  });
  assert.deepEqual(
    llm.calls.map((c) => [c.path, c.model]),
    [["/v1/chat/completions", "__proto__"]],
  );
  assert.equal(result.metadata.token_usage.by_model["__proto__"]?.calls, 1);
  assert.equal(result.metadata.tokens_used, llm.totalTokens());
  assert.equal(({} as Record<string, unknown>)["calls"], undefined);
});

test("model names are matched against the allowlist without a regex, and an overlong one is refused before", async () => {
  assert.equal(wildcardMatch("gpt-4o*", "gpt-4o-mini"), true);
  assert.equal(wildcardMatch("*-mini", "gpt-4o-mini"), true);
  assert.equal(wildcardMatch("claude-*-sonnet*", "claude-3-5-sonnet-latest"), true);
  assert.equal(wildcardMatch("gpt-4o", "gpt-4o-mini"), false);
  assert.equal(wildcardMatch("a*b*c*d*e", "a" + "x".repeat(5000) + "e"), false);
  assert.equal(wildcardMatch("*a*a*a*a*a*b", "a".repeat(256)), false);
  assert.equal(wildcardMatch("**", ""), true);
  assert.equal(wildcardMatch("a.b", "aXb"), false, "a dot is a dot, not any character");
  const caller = account();
  const answer = await rawRequest(gatewayUrl(), "POST", "/openai/v1/chat/completions", {
    headers: { ...auth(caller), "content-type": "application/json" },
    body: chat("m".repeat(257), "hi"),
  });
  assert.equal(answer.status, 400);
  assert.match(errorMessage(answer), /model name is longer than 256 characters/);
  assert.equal(llm.calls.length, 0);
});
