/**
 * `config.context` reaches LangGraph as the run's context, and a streamed run yields the tokens of
 * every LLM call (LangGraph's `messages` stream mode in the harness), in both runtimes, through
 * real HTTP, real sandboxes and the LLM stand-in behind the gateway.
 */
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import { engineWithLlm } from "./support/engine.ts";
import { readSse, type SseEvent } from "./support/sse.ts";

const context = engineWithLlm();
beforeEach(() => context.llm.reset());

type Json = Record<string, unknown>;
type Language = "python" | "typescript";

const state = (body: Json) => (body["result"] as { state: Json }).state;
const messagesOf = (body: Json) => (body["result"] as { messages: { role: string; content: unknown }[] }).messages;

// ------------------------------------------------------------------------------------ context

/** A `context_schema` graph: one node reads the context through its `runtime`, the next through get_runtime. */
const PYTHON_CONTEXT = `from typing import TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.runtime import Runtime, get_runtime

class State(TypedDict, total=False):
    greeting: str
    tone: str

class Ctx(TypedDict, total=False):
    user_name: str
    tone: str

def greet(state: State, runtime: Runtime[Ctx]):
    if runtime.context is None:
        return {"greeting": "no context"}
    return {"greeting": f"hello, {runtime.context['user_name']}"}

def style(state: State):
    ctx = get_runtime(Ctx).context
    return {"tone": ctx["tone"] if ctx else "none"}

builder = StateGraph(State, context_schema=Ctx)
builder.add_node("greet", greet)
builder.add_node("style", style)
builder.add_edge(START, "greet")
builder.add_edge("greet", "style")
builder.add_edge("style", END)
app = builder.compile()
`;

const TYPESCRIPT_CONTEXT = `import { StateGraph, START, END, Annotation, type Runtime } from "@langchain/langgraph";
import { z } from "zod";

const State = Annotation.Root({ greeting: Annotation<string>(), tone: Annotation<string>() });
const Ctx = z.object({ user_name: z.string().optional(), tone: z.string().optional() });
type Ctx = z.infer<typeof Ctx>;

export const app = new StateGraph(State, Ctx)
  .addNode("greet", (_state, runtime: Runtime<Ctx>) => ({
    greeting: runtime.context?.user_name === undefined ? "no context" : \`hello, \${runtime.context.user_name}\`,
  }))
  .addNode("style", (_state, config) => ({ tone: config.context?.tone ?? "none" }))
  .addEdge(START, "greet")
  .addEdge("greet", "style")
  .addEdge("style", END)
  .compile();
`;

const CONTEXT_PROGRAMS: [Language, string][] = [
  ["python", PYTHON_CONTEXT],
  ["typescript", TYPESCRIPT_CONTEXT],
];

for (const [language, code] of CONTEXT_PROGRAMS) {
  test(`${language}: a context_schema graph reads config.context, on both APIs, streamed or not; the next run of the thread has its own`, async () => {
    const { engine } = context;
    const threadId = `ctx-${language}-${crypto.randomUUID()}`;
    const ctx = { user_name: "Ada", tone: "warm" };

    const plain = await engine.post("/execute-langgraph", {
      code,
      language,
      inputs: {},
      config: { thread_id: threadId, context: ctx },
    });
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    assert.equal(plain.body["status"], "success", JSON.stringify(plain.body));
    assert.deepEqual(state(plain.body), { greeting: "hello, Ada", tone: "warm" });

    // The execution record keeps the context the run was given.
    const executionId = (plain.body["result"] as { metadata: { execution_id: string } }).metadata.execution_id;
    const record = (await (await fetch(`${engine.url}/executions/${executionId}`)).json()) as Json;
    assert.deepEqual(record["context"], ctx);

    // Per run, as in LangGraph: continuing the thread without a context gives the nodes none.
    const next = await engine.post("/api/execute-langgraph", {
      code,
      language,
      inputs: {},
      config: { thread_id: threadId },
    });
    assert.equal(next.body["status"], "success", JSON.stringify(next.body));
    assert.deepEqual(state(next.body), { greeting: "no context", tone: "none" });
    const nextId = (next.body["result"] as { metadata: { execution_id: string } }).metadata.execution_id;
    assert.equal(((await (await fetch(`${engine.url}/executions/${nextId}`)).json()) as Json)["context"], null);

    // The stream, under the other prefix, with a context of its own on the same thread.
    const streamed = await readSse(`${engine.url}/api/execute-langgraph/stream`, {
      body: {
        code,
        language,
        inputs: {},
        config: { thread_id: threadId, context: { user_name: "Grace", tone: "dry" } },
      },
    });
    const end = streamed.events.at(-1)!;
    assert.equal(end.event, "complete", JSON.stringify(end.data));
    assert.deepEqual(state(end.data), { greeting: "hello, Grace", tone: "dry" });
  });
}

test("config.context that is not a JSON object, or nested too deep, is a 400 naming the field, on both APIs", async () => {
  const { engine } = context;
  const code = PYTHON_CONTEXT;
  let deep: unknown = "bottom";
  for (let i = 0; i < 101; i++) deep = { d: deep };
  const cases: [unknown, RegExp][] = [
    ["Ada", /`config\.context` must be object or null/],
    [[{ user_name: "Ada" }], /`config\.context` must be object or null/],
    [42, /`config\.context` must be object or null/],
    [deep, /`config\.context` is nested deeper than GRAPHBOX_MAX_INPUT_DEPTH \(100\)/],
  ];
  for (const [value, message] of cases) {
    for (const path of ["/execute-langgraph", "/api/execute-langgraph/stream"]) {
      const answer = await engine.post(path, { code, language: "python", inputs: {}, config: { context: value } });
      assert.equal(answer.status, 400, `${path} ${JSON.stringify(value).slice(0, 40)}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body["error_type"], "invalid_request");
      assert.match(String(answer.body["error"]), message);
    }
  }
  // null is no context at all.
  const none = await engine.post("/execute-langgraph", {
    code,
    language: "python",
    inputs: {},
    config: { context: null },
  });
  assert.equal(none.status, 200, JSON.stringify(none.body));
  assert.deepEqual(state(none.body), { greeting: "no context", tone: "none" });
  assert.equal(context.llm.calls.length, 0);
});

// ------------------------------------------------------------------------------------ tokens

/** The tutorial chatbot: a plain `invoke`, no `streaming=True` anywhere; `model` builds `llm`. */
const pythonChatbot = (model: string) => `${model}
from langgraph.graph import StateGraph, START, END, MessagesState

def chatbot(state: MessagesState):
    return {"messages": [llm.invoke(state["messages"])]}

builder = StateGraph(MessagesState)
builder.add_node("chatbot", chatbot)
builder.add_edge(START, "chatbot")
builder.add_edge("chatbot", END)
graph = builder.compile()
`;

const typescriptChatbot = (
  model: string,
) => `import { StateGraph, START, END, MessagesAnnotation } from "@langchain/langgraph";
${model}

export const graph = new StateGraph(MessagesAnnotation)
  .addNode("chatbot", async (state) => ({ messages: [await llm.invoke(state.messages)] }))
  .addEdge(START, "chatbot")
  .addEdge("chatbot", END)
  .compile();
`;

const CHATBOTS: [Language, string, string][] = [
  ["python", "OpenAI", pythonChatbot(`from langchain_openai import ChatOpenAI\nllm = ChatOpenAI(model="gpt-4o-mini")`)],
  [
    "python",
    "Anthropic",
    pythonChatbot(
      `from langchain_anthropic import ChatAnthropic\nllm = ChatAnthropic(model="claude-sonnet-4-5", max_tokens=64)`,
    ),
  ],
  [
    "typescript",
    "OpenAI",
    typescriptChatbot(
      `import { ChatOpenAI } from "@langchain/openai";\nconst llm = new ChatOpenAI({ model: "gpt-4o-mini" });`,
    ),
  ],
  [
    "typescript",
    "Anthropic",
    typescriptChatbot(
      `import { ChatAnthropic } from "@langchain/anthropic";\nconst llm = new ChatAnthropic({ model: "claude-sonnet-4-5", maxTokens: 64 });`,
    ),
  ],
];

const question = (text: string) => ({ messages: [{ role: "user", content: text }] });
const tokensOf = (events: SseEvent[]) => events.filter((e) => e.event === "token");
const joined = (events: SseEvent[]) =>
  tokensOf(events)
    .map((e) => String(e.data["content"]))
    .join("");
const lastText = (body: Json) => String(messagesOf(body).at(-1)?.content);

async function stream(language: Language, code: string, inputs: unknown): Promise<SseEvent[]> {
  const read = await readSse(`${context.engine.url}/execute-langgraph/stream`, { body: { code, language, inputs } });
  assert.equal(read.status, 200);
  assert.equal(read.events.at(-1)?.event, "complete", JSON.stringify(read.events.at(-1)?.data));
  return read.events;
}

for (const [language, provider, code] of CHATBOTS) {
  test(`${language}, ${provider}: a streamed plain-invoke chatbot yields its tokens in order, inside its node; the plain answer is unchanged`, async () => {
    const events = await stream(language, code, question("Stream the answer please"));
    const complete = events.at(-1)!.data;
    const answer = lastText(complete);
    assert.equal(answer, "Hello from the stand-in! You said: Stream the answer please");

    const tokens = tokensOf(events);
    assert.ok(tokens.length >= 8, `one token per word at least, got ${tokens.length}`);
    assert.equal(joined(events), answer, "each chunk once, in order");
    assert.ok(tokens.every((t) => t.data["node"] === "chatbot" && t.data["type"] === "token"));
    // Between the node's start and its update: tokens arrive while the node runs.
    const names = events.map((e) => e.event);
    assert.ok(names.indexOf("node_start") < names.indexOf("token"));
    assert.ok(names.lastIndexOf("token") < names.indexOf("update"), names.join(" "));
    assert.deepEqual(
      context.llm.calls.map((c) => c.stream),
      [true],
      "the streamed run asked the provider to stream",
    );

    context.llm.reset();
    const plain = await context.engine.post("/execute-langgraph", {
      code,
      language,
      inputs: question("Stream the answer please"),
    });
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
    assert.equal(lastText(plain.body), answer);
    // Not usage_metadata: LangChain.js's ChatAnthropic adds message_start's output tokens to the
    // total when it streams (one more here); the gateway's count, which is billed, is the same.
    const pick = (m: unknown) => {
      const { role, content, tool_calls } = m as Json;
      return { role, content, tool_calls };
    };
    assert.deepEqual(messagesOf(plain.body).map(pick), messagesOf(complete).map(pick));
    assert.deepEqual(
      context.llm.calls.map((c) => c.stream),
      [false],
      "a run nobody streams does not make the model stream",
    );
  });
}

/** A model that streams by itself, one that cannot, one the program hid from the stream, and an agent as a subgraph. */
const PYTHON_KINDS = `from typing import TypedDict
from langchain_openai import ChatOpenAI
from langgraph.graph import StateGraph, START, END, MessagesState

streaming = ChatOpenAI(model="gpt-4o-mini", streaming=True)
whole = ChatOpenAI(model="gpt-4o-mini", disable_streaming=True)
hidden = ChatOpenAI(model="gpt-4o-mini").with_config(tags=["nostream"])

class State(TypedDict, total=False):
    a: str
    b: str
    c: str
    d: str

def asks(key, text, model):
    return lambda state: {key: model.invoke(text).content}

inner = StateGraph(State)
inner.add_node("inner_llm", asks("d", "from the subgraph", streaming))
inner.add_edge(START, "inner_llm")
inner.add_edge("inner_llm", END)

builder = StateGraph(State)
builder.add_node("own_stream", asks("a", "one", streaming))
builder.add_node("no_stream", asks("b", "two", whole))
builder.add_node("hidden", asks("c", "three", hidden))
builder.add_node("sub", inner.compile())
builder.add_edge(START, "own_stream")
builder.add_edge("own_stream", "no_stream")
builder.add_edge("no_stream", "hidden")
builder.add_edge("hidden", "sub")
builder.add_edge("sub", END)
app = builder.compile()
`;

const TYPESCRIPT_KINDS = `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";
import { ChatOpenAI } from "@langchain/openai";

const streaming = new ChatOpenAI({ model: "gpt-4o-mini", streaming: true });
const whole = new ChatOpenAI({ model: "gpt-4o-mini", disableStreaming: true });
const hidden = new ChatOpenAI({ model: "gpt-4o-mini" }).withConfig({ tags: ["nostream"] });

const State = Annotation.Root({
  a: Annotation<string>(),
  b: Annotation<string>(),
  c: Annotation<string>(),
  d: Annotation<string>(),
});
const asks = (key: string, text: string, model: { invoke(input: string): Promise<{ text: string }> }) => async () => ({
  [key]: (await model.invoke(text)).text,
});

const inner = new StateGraph(State)
  .addNode("inner_llm", asks("d", "from the subgraph", streaming))
  .addEdge(START, "inner_llm")
  .addEdge("inner_llm", END)
  .compile();

export const app = new StateGraph(State)
  .addNode("own_stream", asks("a", "one", streaming))
  .addNode("no_stream", asks("b", "two", whole))
  .addNode("hidden", asks("c", "three", hidden))
  .addNode("sub", inner)
  .addEdge(START, "own_stream")
  .addEdge("own_stream", "no_stream")
  .addEdge("no_stream", "hidden")
  .addEdge("hidden", "sub")
  .addEdge("sub", END)
  .compile();
`;

const KINDS: [Language, string][] = [
  ["python", PYTHON_KINDS],
  ["typescript", TYPESCRIPT_KINDS],
];

for (const [language, code] of KINDS) {
  test(`${language}: every LLM call of a streamed run yields its text once: streaming or not, in a subgraph; nostream stays quiet`, async () => {
    const events = await stream(language, code, {});
    const reply = (text: string) => `Hello from the stand-in! You said: ${text}`;
    assert.deepEqual(state(events.at(-1)!.data), {
      a: reply("one"),
      b: reply("two"),
      c: reply("three"),
      d: reply("from the subgraph"),
    });

    const byNode = new Map<string, string[]>();
    for (const token of tokensOf(events)) {
      const node = String(token.data["node"]);
      byNode.set(node, [...(byNode.get(node) ?? []), String(token.data["content"])]);
    }
    assert.deepEqual([...byNode.keys()], ["own_stream", "no_stream", "inner_llm"]);
    assert.equal(byNode.get("own_stream")!.join(""), reply("one"), "a model that streams itself is not reported twice");
    assert.deepEqual(byNode.get("no_stream"), [reply("two")], "a model that cannot stream: its whole text, once");
    assert.equal(byNode.get("inner_llm")!.join(""), reply("from the subgraph"));
    // The subgraph's own nodes stay inside it, as before: only its tokens come out.
    assert.ok(!events.some((e) => e.event === "node_start" && e.data["node"] === "inner_llm"));
  });
}
