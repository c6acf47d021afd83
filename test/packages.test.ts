/**
 * The packages LangGraph's docs assume, used as the docs use them, over real HTTP: langchain's
 * init_chat_model / initChatModel and provider strings reach the LLM stand-in through the gateway
 * and are metered; langgraph-supervisor runs; a provider the gateway does not serve is named in a
 * clear error; load_dotenv() and dotenv/config read nothing.
 */
import assert from "node:assert/strict";
import { beforeEach, test } from "node:test";

import { engineWithLlm } from "./support/engine.ts";
import { harnessSession } from "./support/js-harness.ts";

const running = engineWithLlm();
beforeEach(() => running.llm.reset());

interface Answer {
  status: string;
  error?: string;
  error_type?: string;
  traceback?: string;
  result?: {
    messages: { role: string; content: unknown }[];
    state: Record<string, unknown>;
    metadata: {
      tokens_used: number;
      nodes_executed: string[];
      logs: string;
      token_usage: { by_model: Record<string, { calls: number; total_tokens: number }> };
    };
  };
}

const QUESTION = { messages: [{ role: "user", content: "What is 6 times 7?" }] };

async function execute(code: string, language: "python" | "typescript", inputs: unknown = QUESTION): Promise<Answer> {
  const { status, body } = await running.engine.post("/execute-langgraph", { code, language, inputs });
  assert.equal(status, 200, JSON.stringify(body));
  return body as unknown as Answer;
}

/** The answer succeeded, its last message is `reply`, and every token the stand-in reported was metered. */
function assertAnsweredAndMetered(answer: Answer, options: { reply: string; model: string; calls: number }): void {
  assert.equal(answer.status, "success", JSON.stringify(answer));
  const { llm } = running;
  assert.equal(llm.calls.length, options.calls, JSON.stringify(llm.calls.map((c) => [c.path, c.status])));
  assert.ok(
    llm.calls.every((c) => c.status === 200 && c.model === options.model),
    JSON.stringify(llm.calls),
  );
  assert.equal(answer.result!.messages.at(-1)?.content, options.reply);
  const metadata = answer.result!.metadata;
  assert.ok(llm.totalTokens() > 0);
  assert.equal(metadata.tokens_used, llm.totalTokens());
  assert.equal(metadata.token_usage.by_model[options.model]?.calls, options.calls);
  assert.equal(metadata.token_usage.by_model[options.model]?.total_tokens, llm.totalTokens());
}

const PYTHON_CHATBOT = `from dotenv import load_dotenv
from langchain.chat_models import init_chat_model
from langgraph.graph import StateGraph, MessagesState, START, END

load_dotenv()
llm = init_chat_model("openai:gpt-4o-mini")


def chatbot(state: MessagesState):
    return {"messages": [llm.invoke(state["messages"])]}


graph = StateGraph(MessagesState).add_node("chatbot", chatbot).add_edge(START, "chatbot").add_edge("chatbot", END).compile()
`;

const PYTHON_MULTIPLY = `def multiply(a: int, b: int) -> int:
    """Multiply two integers."""
    return a * b
`;

test("python: an init_chat_model('openai:...') chatbot answers through the gateway, metered", async () => {
  const answer = await execute(PYTHON_CHATBOT, "python");
  assertAnsweredAndMetered(answer, {
    reply: "Hello from the stand-in! You said: What is 6 times 7?",
    model: "gpt-4o-mini",
    calls: 1,
  });
  assert.equal(running.llm.calls[0]?.provider, "openai");
});

test("python: create_react_agent(model='anthropic:...') calls its tool and answers through the gateway, metered", async () => {
  const code = `from langgraph.prebuilt import create_react_agent
${PYTHON_MULTIPLY}
app = create_react_agent(model="anthropic:claude-3-5-haiku-latest", tools=[multiply])
`;
  const answer = await execute(code, "python");
  assertAnsweredAndMetered(answer, { reply: "The answer is 42.", model: "claude-3-5-haiku-latest", calls: 2 });
  assert.ok(running.llm.calls.every((c) => c.provider === "anthropic"));
  assert.deepEqual(answer.result!.metadata.nodes_executed, ["agent", "tools", "agent"]);
});

const TS_CHATBOT = `import "dotenv/config";
import { initChatModel } from "langchain/chat_models/universal";
import { StateGraph, MessagesAnnotation, START, END } from "@langchain/langgraph";

const llm = await initChatModel("openai:gpt-4o-mini");

export const graph = new StateGraph(MessagesAnnotation)
  .addNode("chatbot", async (state) => ({ messages: [await llm.invoke(state.messages)] }))
  .addEdge(START, "chatbot")
  .addEdge("chatbot", END)
  .compile();
`;

const TS_MULTIPLY = `import { tool } from "langchain";
import { z } from "zod";

const multiply = tool(async ({ a, b }: { a: number; b: number }) => String(a * b), {
  name: "multiply",
  description: "Multiply two integers.",
  schema: z.object({ a: z.number(), b: z.number() }),
});
`;

test("typescript: an initChatModel('openai:...') chatbot answers through the gateway, metered", async () => {
  const answer = await execute(TS_CHATBOT, "typescript");
  assertAnsweredAndMetered(answer, {
    reply: "Hello from the stand-in! You said: What is 6 times 7?",
    model: "gpt-4o-mini",
    calls: 1,
  });
  assert.equal(running.llm.calls[0]?.provider, "openai");
});

test("typescript: createReactAgent on initChatModel('anthropic:...') calls its tool and answers through the gateway, metered", async () => {
  const code = `import { initChatModel } from "langchain";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
${TS_MULTIPLY}
export const app = createReactAgent({ llm: await initChatModel("anthropic:claude-3-5-haiku-latest"), tools: [multiply] });
`;
  const answer = await execute(code, "typescript");
  assertAnsweredAndMetered(answer, { reply: "The answer is 42.", model: "claude-3-5-haiku-latest", calls: 2 });
  assert.ok(running.llm.calls.every((c) => c.provider === "anthropic"));
  assert.deepEqual(answer.result!.metadata.nodes_executed, ["agent", "tools", "agent"]);
});

test("typescript: langchain's createAgent takes a provider string", async () => {
  const code = `import { createAgent } from "langchain";
${TS_MULTIPLY}
// A ReactAgent is not itself a compiled graph (its \`graph\` is): the harness runs the graph it holds,
// found under a name no rule lists.
const mathAgent = createAgent({ model: "anthropic:claude-3-5-haiku-latest", tools: [multiply] });
`;
  const answer = await execute(code, "typescript");
  assertAnsweredAndMetered(answer, { reply: "The answer is 42.", model: "claude-3-5-haiku-latest", calls: 2 });
});

// The stand-in calls a tool only when it is named `multiply`: the supervisor's handoff to its
// expert is named so, and the run goes supervisor → math_expert → supervisor, three LLM calls.
const SUPERVISED_REPLIES = [
  "Successfully transferred to math_expert",
  "The answer is Successfully transferred to math_expert.",
  "Transferring back to supervisor",
  "Successfully transferred back to supervisor",
  "The answer is Successfully transferred back to supervisor.",
];

function assertSupervised(answer: Answer): void {
  assertAnsweredAndMetered(answer, { reply: SUPERVISED_REPLIES.at(-1)!, model: "gpt-4o-mini", calls: 3 });
  const texts = answer.result!.messages.map((m) => m.content).filter((c) => typeof c === "string" && c !== "");
  assert.deepEqual(texts, ["What is 6 times 7?", ...SUPERVISED_REPLIES]);
  assert.deepEqual(answer.result!.metadata.nodes_executed, ["supervisor", "math_expert", "supervisor"]);
}

test("python: a langgraph-supervisor program hands off to its expert and back", async () => {
  const code = `from langchain.chat_models import init_chat_model
from langgraph.prebuilt import create_react_agent
from langgraph_supervisor import create_handoff_tool, create_supervisor
${PYTHON_MULTIPLY}
math_expert = create_react_agent(model="openai:gpt-4o-mini", tools=[multiply], name="math_expert", prompt="You do arithmetic.")
handoff = create_handoff_tool(agent_name="math_expert", name="multiply", description="Ask the math expert.")
app = create_supervisor([math_expert], model=init_chat_model("openai:gpt-4o-mini"), tools=[handoff], prompt="You route questions.").compile()
`;
  assertSupervised(await execute(code, "python"));
});

test("typescript: a @langchain/langgraph-supervisor program hands off to its expert and back", async () => {
  const code = `import { initChatModel } from "langchain";
import { createReactAgent } from "@langchain/langgraph/prebuilt";
import { Command, getCurrentTaskInput, MessagesAnnotation } from "@langchain/langgraph";
import { ToolMessage } from "@langchain/core/messages";
import { createSupervisor } from "@langchain/langgraph-supervisor";
${TS_MULTIPLY}
const mathExpert = createReactAgent({
  llm: await initChatModel("openai:gpt-4o-mini"),
  tools: [multiply],
  name: "math_expert",
  prompt: "You do arithmetic.",
});
// A handoff of its own (LangGraph.js's docs show how): createHandoffTool names its tool transfer_to_<agent>.
const handoff = tool(
  async (_input, config) => {
    const { messages } = getCurrentTaskInput<typeof MessagesAnnotation.State>();
    const done = new ToolMessage({ content: "Successfully transferred to math_expert", name: "multiply", tool_call_id: config.toolCall!.id! });
    return new Command({ goto: "math_expert", graph: Command.PARENT, update: { messages: [...messages, done] } });
  },
  { name: "multiply", description: "Ask the math expert.", schema: z.object({ a: z.number(), b: z.number() }) },
);
export const app = createSupervisor({
  agents: [mathExpert],
  llm: await initChatModel("openai:gpt-4o-mini"),
  tools: [handoff],
  prompt: "You route questions.",
}).compile();
`;
  assertSupervised(await execute(code, "typescript"));
});

test("python and typescript: langgraph-swarm imports", async () => {
  const python = await execute(
    `from langgraph_swarm import create_swarm, create_handoff_tool
from langgraph.graph import StateGraph, START
from typing import TypedDict
class State(TypedDict):
    out: str
app = StateGraph(State).add_node("n", lambda s: {"out": create_swarm.__name__ + "/" + create_handoff_tool(agent_name="bob").name}).add_edge(START, "n").compile()
`,
    "python",
    {},
  );
  assert.equal(python.status, "success", JSON.stringify(python));
  assert.equal(python.result!.state["out"], "create_swarm/transfer_to_bob");
  const typescript = await execute(
    `import { createSwarm, createHandoffTool } from "@langchain/langgraph-swarm";
import { StateGraph, START, Annotation } from "@langchain/langgraph";
const State = Annotation.Root({ out: Annotation<string>() });
export const app = new StateGraph(State)
  .addNode("n", () => ({ out: createSwarm.name + "/" + createHandoffTool({ agentName: "bob" }).name }))
  .addEdge(START, "n")
  .compile();
`,
    "typescript",
    {},
  );
  assert.equal(typescript.status, "success", JSON.stringify(typescript));
  assert.equal(typescript.result!.state["out"], "createSwarm/transfer_to_bob");
});

/** The error a provider the gateway does not serve gets: a program error naming the served ones, no call made. */
function assertUnserved(answer: Answer, provider: string): void {
  assert.equal(answer.status, "error", JSON.stringify(answer));
  assert.equal(answer.error_type, "program_error");
  assert.match(
    answer.error ?? "",
    new RegExp(
      `^ModelProviderError: model provider .${provider}. is not available here: .*serves openai and anthropic`,
    ),
  );
  assert.doesNotMatch(answer.traceback ?? "", /ImportError|install/);
  assert.equal(running.llm.calls.length, 0);
}

test("python: a provider the gateway does not serve is a clear error, whether installed or not", async () => {
  const cases: [string, string][] = [
    // not installed: langchain would say "requires the langchain-google-genai package"
    [`init_chat_model("google_genai:gemini-2.0-flash")`, "google_genai"],
    [`create_react_agent(model="groq:llama-3.1-8b-instant", tools=[])`, "groq"],
    // no provider named: langchain infers google_vertexai from the model's name
    [`init_chat_model("gemini-2.0-flash")`, "google_vertexai"],
    // installed (langchain_openai's class), aimed at a host the sandbox cannot reach
    [`init_chat_model("gpt-4o", model_provider="azure_openai")`, "azure_openai"],
  ];
  for (const [call, provider] of cases) {
    const code = `from langchain.chat_models import init_chat_model
from langgraph.prebuilt import create_react_agent
from langgraph.graph import StateGraph, MessagesState, START


def chatbot(state: MessagesState):
    return {"messages": [${call}.invoke(state["messages"])]}


graph = StateGraph(MessagesState).add_node("chatbot", chatbot).add_edge(START, "chatbot").compile()
`;
    const answer = await execute(code, "python");
    assertUnserved(answer, provider);
    assert.match(answer.traceback ?? "", /File "<workflow>", line 7, in chatbot/);
  }
});

test("typescript: a provider the gateway does not serve is a clear error, whether installed or not", async () => {
  const cases: [string, string][] = [
    [`await initChatModel("google-genai:gemini-2.0-flash")`, "google-genai"],
    [`await initChatModel("llama-3.1-8b-instant", { modelProvider: "groq" })`, "groq"],
    [`await initChatModel("gpt-4o", { modelProvider: "azure_openai" })`, "azure_openai"],
    // made inside langchain, when the agent first runs: no frame of the program's on the way
    [`createAgent({ model: "groq:llama-3.1-8b-instant", tools: [] })`, "groq"],
  ];
  for (const [call, provider] of cases) {
    const code = `import { createAgent, initChatModel } from "langchain";
import { StateGraph, MessagesAnnotation, START } from "@langchain/langgraph";

export const graph = new StateGraph(MessagesAnnotation)
  .addNode("chatbot", async (state) => (await ${call}).invoke(state))
  .addEdge(START, "chatbot")
  .compile();
`;
    const answer = await execute(code, "typescript");
    assertUnserved(answer, provider);
    if (call.startsWith("await")) assert.match(answer.traceback ?? "", /<workflow>:5:\d+/);
  }
});

test("typescript, from the startup snapshot and from main.mjs alike: initChatModel's models are the classes the program imports", async () => {
  // langchain imports the provider's package by a name it computes: from the snapshot that import
  // goes through the harness, and must still give the snapshot's own copy, not a second one from disk.
  const code = `import { initChatModel } from "langchain";
import { ChatOpenAI } from "@langchain/openai";
import { ChatAnthropic } from "@langchain/anthropic";
import { StateGraph, START, Annotation } from "@langchain/langgraph";

const made = async (model: string) => (await initChatModel(model, { apiKey: "unused" }))._getModelInstance();
const State = Annotation.Root({ out: Annotation<string>() });
export const app = new StateGraph(State)
  .addNode("probe", async () => {
    const openai = await made("openai:gpt-4o-mini");
    const anthropic = await made("anthropic:claude-3-5-haiku-latest");
    const refused = await made("mistralai:mistral-large-latest").catch((err: Error) => err.name);
    return { out: [openai instanceof ChatOpenAI, anthropic instanceof ChatAnthropic, refused].join("/") };
  })
  .addEdge(START, "probe")
  .compile();
`;
  for (const snapshot of [true, false]) {
    const session = await harnessSession({ code }, { snapshot });
    const result = session.messages.at(-1);
    assert.equal(result?.type, "result", `${snapshot}: ${JSON.stringify(result)} ${session.logs}`);
    assert.deepEqual(result.state, { out: "true/true/ModelProviderError" }, `snapshot: ${snapshot}`);
  }
});

test("python: load_dotenv() reads no .env file and says nothing", async () => {
  // A .env beside the program, where python-dotenv would find it first.
  const code = `import os
from dotenv import load_dotenv, find_dotenv
from langgraph.graph import StateGraph, START
from typing import TypedDict

load_dotenv()


class State(TypedDict):
    out: str


def probe(state: State):
    with open(".env", "w") as f:
        f.write("GBX_DOTENV_PROBE=read\\n")
    loaded = load_dotenv(find_dotenv(usecwd=True), override=True)
    return {"out": f"{loaded}/{os.environ.get('GBX_DOTENV_PROBE', 'unset')}"}


app = StateGraph(State).add_node("probe", probe).add_edge(START, "probe").compile()
`;
  const answer = await execute(code, "python", {});
  assert.equal(answer.status, "success", JSON.stringify(answer));
  assert.equal(answer.result!.state["out"], "False/unset");
  assert.equal(answer.result!.metadata.logs, "");
});

test("typescript: dotenv/config and dotenv.config() read no .env file and say nothing", async () => {
  const code = `import "dotenv/config";
import dotenv from "dotenv";
import { writeFileSync } from "node:fs";
import { StateGraph, START, Annotation } from "@langchain/langgraph";

const State = Annotation.Root({ out: Annotation<string>() });
export const app = new StateGraph(State)
  .addNode("probe", () => {
    writeFileSync(".env", "GBX_DOTENV_PROBE=read\\n");
    const { parsed, error } = dotenv.config();
    return { out: \`\${JSON.stringify(parsed)}/\${error ?? "no error"}/\${process.env.GBX_DOTENV_PROBE ?? "unset"}\` };
  })
  .addEdge(START, "probe")
  .compile();
`;
  const answer = await execute(code, "typescript", {});
  assert.equal(answer.status, "success", JSON.stringify(answer));
  assert.equal(answer.result!.state["out"], "{}/no error/unset");
  assert.equal(answer.result!.metadata.logs, "");
});
