/**
 * agent-chat-ui's calls, replayed exactly as it and useStream send them
 * (`../shared/agent-ref/transcripts/14-chat-ui.txt`), against a chat program and an interrupting
 * program registered in each runtime: `/info`, the thread list by `graph_id`, a new thread, its
 * history, a streamed message with `values`, `messages-tuple` and `custom`, history again, a
 * regenerate from the message's parent checkpoint, and an interrupt answered with `input: {}` and
 * `command.resume`. Each answer is checked for the fields the UI reads from it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { agentClient, ok, register, type AgentClient, type Json } from "./support/agent-client.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import type { SseEvent } from "./support/sse.ts";

const KEY = `chat-ui-key-${crypto.randomUUID()}`;

/** The reference's `agent` graph: one node calling the model, writing one custom event first. */
const CHAT = {
  typescript: `import { StateGraph, MessagesAnnotation, START, END, type LangGraphRunnableConfig } from "@langchain/langgraph";
import { ChatOpenAI } from "@langchain/openai";

const model = new ChatOpenAI({ model: "gpt-4o-mini", temperature: 0 });

async function callModel(state: typeof MessagesAnnotation.State, config: LangGraphRunnableConfig) {
  config.writer?.({ progress: "calling model", n_messages: state.messages.length });
  return { messages: [await model.invoke(state.messages, config)] };
}

export const graph = new StateGraph(MessagesAnnotation)
  .addNode("agent", callModel)
  .addEdge(START, "agent")
  .addEdge("agent", END)
  .compile();
`,
  python: `from langchain_openai import ChatOpenAI
from langgraph.config import get_stream_writer
from langgraph.graph import StateGraph, MessagesState, START, END

model = ChatOpenAI(model="gpt-4o-mini", temperature=0)

def agent(state: MessagesState):
    get_stream_writer()({"progress": "calling model", "n_messages": len(state["messages"])})
    return {"messages": [model.invoke(state["messages"])]}

builder = StateGraph(MessagesState)
builder.add_node("agent", agent)
builder.add_edge(START, "agent")
builder.add_edge("agent", END)
graph = builder.compile()
`,
};

/** The reference's `interrupt` graph: `ask` interrupts, `finish` uses the resume value. */
const INTERRUPT = {
  typescript: `import { Annotation, StateGraph, START, END, interrupt } from "@langchain/langgraph";

const State = Annotation.Root({
  topic: Annotation<string>,
  answer: Annotation<string>,
  result: Annotation<string>,
});

export const graph = new StateGraph(State)
  .addNode("ask", (state) => ({ answer: JSON.stringify(interrupt({ question: \`Approve \${state.topic}?\`, topic: state.topic })) }))
  .addNode("finish", (state) => ({ result: \`finished \${state.topic} with \${state.answer}\` }))
  .addEdge(START, "ask")
  .addEdge("ask", "finish")
  .addEdge("finish", END)
  .compile();
`,
  python: `import json
from typing import TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.types import interrupt

class State(TypedDict, total=False):
    topic: str
    answer: str
    result: str

def ask(state: State):
    answer = interrupt({"question": f"Approve {state['topic']}?", "topic": state["topic"]})
    return {"answer": json.dumps(answer, separators=(",", ":"))}

def finish(state: State):
    return {"result": f"finished {state['topic']} with {state['answer']}"}

builder = StateGraph(State)
builder.add_node("ask", ask)
builder.add_node("finish", finish)
builder.add_edge(START, "ask")
builder.add_edge("ask", "finish")
builder.add_edge("finish", END)
graph = builder.compile()
`,
};

let llm: LlmStandIn;
let engine: RunningEngine;
let client: AgentClient;

before(async () => {
  llm = await startLlmStandIn();
  engine = await startEngine(llm, { apiKeys: { ui: KEY } });
  client = agentClient(engine.url, KEY);
});
after(async () => {
  await engine?.close();
  await llm?.close();
});

/** The frames of a whole SSE body. */
function parseSse(body: string): SseEvent[] {
  return body
    .split("\n\n")
    .filter((frame) => frame.trim() !== "" && !frame.startsWith(":"))
    .map((frame) => {
      const fields = new Map(
        frame.split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
      );
      return {
        id: Number(fields.get("id")),
        event: fields.get("event") ?? "",
        data: JSON.parse(fields.get("data") ?? "null") as Json,
      };
    });
}

/** What useStream sends for agent-chat-ui's submit, read as it reads it: the run id from Content-Location, then the events. */
async function submit(threadId: string, body: Json): Promise<{ events: SseEvent[]; runId: string }> {
  const response = await fetch(`${engine.url}/threads/${threadId}/runs/stream`, {
    method: "POST",
    headers: { "x-api-key": KEY, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
  const contentLocation = response.headers.get("content-location") ?? "";
  // useStream's pattern for it (react/stream.lgp.js).
  const match = /(\/threads\/(?<thread_id>.+))?\/runs\/(?<run_id>.+)/u.exec(contentLocation);
  assert.ok(match?.groups, `Content-Location ${JSON.stringify(contentLocation)}`);
  assert.equal(match.groups["thread_id"], threadId);
  return { events: parseSse(await response.text()), runId: match.groups["run_id"]! };
}

/** The chat run body of the transcript (agent-chat-ui's useStream options). */
const CHAT_STREAM = {
  stream_mode: ["values", "messages-tuple", "custom"],
  stream_subgraphs: true,
  stream_resumable: true,
  on_disconnect: "continue",
};

type Message = Json & { id?: string; type?: string; content?: unknown };
const messagesOf = (values: Json): Message[] => (values["messages"] ?? []) as Message[];
const text = (message: Message): string =>
  typeof message.content === "string"
    ? message.content
    : (message.content as { text?: string }[]).map((part) => part.text ?? "").join("");

for (const language of ["typescript", "python"] as const)
  describe(`agent-chat-ui against a ${language} chat program`, () => {
    const graphId = `chat-${language}`;
    const approvalId = `approve-${language}`;
    before(async () => {
      await register(client, { graphId, code: CHAT[language], language });
      await register(client, { graphId: approvalId, code: INTERRUPT[language], language });
    });

    test("info, thread list, new thread, stream, history, regenerate from the parent checkpoint", async () => {
      // checkGraphStatus: only res.ok matters, with the key as the UI sends it.
      const info = await fetch(`${engine.url}/info`, { headers: { "x-api-key": KEY } });
      assert.ok(info.ok);
      await info.body?.cancel();

      // The thread list before anything ran: an array (the UI maps it).
      const before = ok(
        await client.call("POST", "/threads/search", {
          body: { metadata: { graph_id: graphId }, limit: 100, offset: 0 },
        }),
      );
      assert.ok(Array.isArray(before));

      // A new chat: POST /threads {metadata: {}}; useStream reads thread_id.
      const thread = ok(await client.call("POST", "/threads", { body: { metadata: {} } }));
      const threadId = String(thread["thread_id"]);
      // fetchStateHistory on a thread without checkpoints: an empty list.
      assert.deepEqual(ok(await client.call("POST", `/threads/${threadId}/history`, { body: { limit: 10 } })), []);

      const human = {
        id: crypto.randomUUID(),
        type: "human",
        content: [{ type: "text", text: "hello ui" }],
      };
      const { events, runId } = await submit(threadId, {
        input: { messages: [human] },
        ...CHAT_STREAM,
        assistant_id: graphId,
      });
      assert.equal(events[0]!.event, "metadata");
      assert.equal(events[0]!.data["run_id"], runId);
      assert.ok(!events.some((e) => e.event === "error"), JSON.stringify(events.at(-1)));
      // values: the whole state, messages with id, type and content (the human one as sent).
      const values = events.filter((e) => e.event === "values").map((e) => e.data);
      assert.ok(values.length >= 2, events.map((e) => e.event).join(","));
      assert.equal(messagesOf(values[0]!)[0]!.id, human.id);
      const final = messagesOf(values.at(-1)!);
      assert.deepEqual(
        final.map((m) => m.type),
        ["human", "ai"],
      );
      const reply = final[1]!;
      assert.equal(typeof reply.id, "string");
      assert.match(text(reply), /hello ui/);
      // messages-tuple is streamed as `messages`: [chunk, metadata], the chunks of the reply's id
      // adding up to its text; metadata names the node (useStream keeps the chunks by message id).
      const tuples = events.filter((e) => e.event === "messages").map((e) => e.data as unknown as [Message, Json]);
      assert.ok(tuples.length > 1, events.map((e) => e.event).join(","));
      for (const [chunk, metadata] of tuples) {
        assert.equal(chunk.id, reply.id);
        assert.match(String(chunk.type), /^(ai|AIMessageChunk)$/);
        assert.equal(metadata["langgraph_node"], "agent");
      }
      assert.equal(tuples.map(([chunk]) => text(chunk)).join(""), text(reply));
      // custom: whatever the node wrote (onCustomEvent).
      const custom = events.filter((e) => e.event === "custom").map((e) => e.data);
      assert.deepEqual(custom, [{ progress: "calling model", n_messages: 1 }]);
      // No event named for a namespace: the graph has no subgraph.
      assert.ok(!events.some((e) => e.event.includes("|")), events.map((e) => e.event).join(","));

      // The thread list now finds it by graph_id, with its values (the UI shows the first message).
      const listed = ok(
        await client.call("POST", "/threads/search", {
          body: { metadata: { graph_id: graphId }, limit: 100, offset: 0 },
        }),
      ) as unknown as Json[];
      const row = listed.find((t) => t["thread_id"] === threadId);
      assert.ok(row, JSON.stringify(listed).slice(0, 1000));
      assert.equal((row["metadata"] as Json)["graph_id"], graphId);
      assert.equal(messagesOf(row["values"] as Json)[0]!.id, human.id);
      assert.equal(row["status"], "idle");

      // History after the run: newest first; useStream reads values, next, tasks, checkpoint and parent_checkpoint.
      const history = ok(
        await client.call("POST", `/threads/${threadId}/history`, { body: { limit: 10 } }),
      ) as unknown as Json[];
      assert.ok(history.length >= 2, JSON.stringify(history).slice(0, 1000));
      for (const state of history) {
        for (const field of ["values", "next", "tasks", "checkpoint", "parent_checkpoint", "metadata", "created_at"])
          assert.ok(field in state, `${field} in ${JSON.stringify(state).slice(0, 500)}`);
        assert.equal((state["checkpoint"] as Json)["thread_id"], threadId);
      }
      const head = history[0]!;
      assert.deepEqual(head["next"], []);
      assert.deepEqual(
        messagesOf(head["values"] as Json).map((m) => m.id),
        final.map((m) => m.id),
      );
      // Each state's parent is the next one down: the UI's branch tree is built from these ids.
      for (let i = 0; i + 1 < history.length; i++)
        assert.equal(
          (history[i]!["parent_checkpoint"] as Json)["checkpoint_id"],
          (history[i + 1]!["checkpoint"] as Json)["checkpoint_id"],
        );

      // Regenerate: no input, the reply's first-seen state's parent checkpoint, thread_id removed.
      const parent = { ...(head["parent_checkpoint"] as Json) };
      delete parent["thread_id"];
      const again = await submit(threadId, { ...CHAT_STREAM, assistant_id: graphId, checkpoint: parent });
      assert.ok(!again.events.some((e) => e.event === "error"), JSON.stringify(again.events.at(-1)));
      const regenerated = messagesOf(again.events.filter((e) => e.event === "values").at(-1)!.data);
      assert.deepEqual(
        regenerated.map((m) => m.type),
        ["human", "ai"],
        "the branch replaces the reply, it does not add one",
      );
      assert.equal(regenerated[0]!.id, human.id);
      assert.match(text(regenerated[1]!), /hello ui/);

      // History after the regenerate: the new head's parent is the checkpoint the branch started from.
      const branched = ok(
        await client.call("POST", `/threads/${threadId}/history`, { body: { limit: 10 } }),
      ) as unknown as Json[];
      const newHead = branched[0]!;
      assert.notEqual((newHead["checkpoint"] as Json)["checkpoint_id"], (head["checkpoint"] as Json)["checkpoint_id"]);
      assert.deepEqual(
        messagesOf(newHead["values"] as Json).map((m) => m.id),
        regenerated.map((m) => m.id),
      );
      // As the reference's history after a regenerate: the new reply (loop, step 2) on a `fork` of the
      // branch point (step 1), beside the old reply (loop, step 1), both children of the branch point.
      const shape = branched.map((state) => {
        const metadata = state["metadata"] as Json;
        const id = (ref: unknown): unknown => (ref as Json | null)?.["checkpoint_id"] ?? null;
        return {
          checkpoint: id(state["checkpoint"]),
          parent: id(state["parent_checkpoint"]),
          source: metadata["source"],
          step: metadata["step"],
          messages: messagesOf(state["values"] as Json).length,
        };
      });
      const ids = shape.map((s) => s.checkpoint);
      assert.deepEqual(shape, [
        { checkpoint: ids[0], parent: ids[1], source: "loop", step: 2, messages: 2 },
        { checkpoint: ids[1], parent: parent["checkpoint_id"], source: "fork", step: 1, messages: 1 },
        {
          checkpoint: (head["checkpoint"] as Json)["checkpoint_id"],
          parent: parent["checkpoint_id"],
          source: "loop",
          step: 1,
          messages: 2,
        },
        { checkpoint: parent["checkpoint_id"], parent: ids[4], source: "loop", step: 0, messages: 1 },
        { checkpoint: ids[4], parent: null, source: "input", step: -1, messages: 0 },
      ]);
      // Both replies stay in the history (the UI's branch switcher shows them).
      const heads = branched.filter((s) => messagesOf(s["values"] as Json).length === 2);
      assert.ok(heads.length >= 2, `${heads.length} states with a reply`);
    });

    test("an interrupt shown from history, answered with input {} and command.resume", async () => {
      const thread = ok(await client.call("POST", "/threads", { body: { metadata: {} } }));
      const threadId = String(thread["thread_id"]);
      const first = await submit(threadId, {
        input: { topic: "ui" },
        stream_mode: ["values"],
        stream_subgraphs: true,
        assistant_id: approvalId,
        on_disconnect: "cancel",
      });
      // While streaming, useStream reads the interrupt from the last values' __interrupt__.
      const interrupted = first.events.filter((e) => e.event === "values").at(-1)!.data;
      const [waiting] = interrupted["__interrupt__"] as Json[];
      assert.deepEqual(waiting!["value"], { question: "Approve ui?", topic: "ui" });
      assert.equal(typeof waiting!["id"], "string");

      // Otherwise from the history head's tasks[].interrupts, with next naming the node.
      const history = ok(
        await client.call("POST", `/threads/${threadId}/history`, { body: { limit: 10 } }),
      ) as unknown as Json[];
      const head = history[0]!;
      assert.deepEqual(head["next"], ["ask"]);
      const tasks = head["tasks"] as Json[];
      assert.equal(tasks.length, 1);
      assert.equal(tasks[0]!["name"], "ask");
      assert.deepEqual(tasks[0]!["interrupts"], [waiting]);
      const threadNow = ok(await client.call("GET", `/threads/${threadId}`));
      assert.equal(threadNow["status"], "interrupted");
      assert.deepEqual(Object.values(threadNow["interrupts"] as Json), [[waiting]]);

      // agent-inbox's answer: input {} together with the command; the command wins.
      const decisions = { decisions: [{ type: "approve" }] };
      const resumed = await submit(threadId, {
        input: {},
        command: { resume: decisions },
        stream_mode: ["values"],
        stream_subgraphs: true,
        assistant_id: approvalId,
        on_disconnect: "cancel",
      });
      assert.ok(!resumed.events.some((e) => e.event === "error"), JSON.stringify(resumed.events.at(-1)));
      const done = resumed.events.filter((e) => e.event === "values").at(-1)!.data;
      assert.equal(done["result"], `finished ui with ${JSON.stringify(decisions)}`);
      assert.ok(!("__interrupt__" in done));
      const after = ok(await client.call("GET", `/threads/${threadId}`));
      assert.equal(after["status"], "idle");
      assert.deepEqual(after["interrupts"], {});
    });
  });

describe("a chat UI served from another origin", () => {
  const ORIGIN = "https://chat.example";
  let corsEngine: RunningEngine;
  before(async () => {
    corsEngine = await startEngine(llm, { apiKeys: { ui: KEY }, corsOrigins: [ORIGIN] });
    await register(agentClient(corsEngine.url, KEY), {
      graphId: "agent",
      code: CHAT.typescript,
      language: "typescript",
    });
  });
  after(async () => corsEngine?.close());

  test("its preflight passes without a key, and the run's stream exposes Content-Location", async () => {
    const preflight = await fetch(`${corsEngine.url}/threads/search`, {
      method: "OPTIONS",
      headers: {
        origin: ORIGIN,
        "access-control-request-method": "POST",
        "access-control-request-headers": "x-api-key,content-type",
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), ORIGIN);
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /x-api-key/);

    const response = await fetch(`${corsEngine.url}/runs/stream`, {
      method: "POST",
      headers: { origin: ORIGIN, "x-api-key": KEY, "content-type": "application/json" },
      body: JSON.stringify({ assistant_id: "agent", input: { messages: [{ role: "user", content: "hi" }] } }),
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("access-control-allow-origin"), ORIGIN);
    assert.match(response.headers.get("access-control-expose-headers") ?? "", /content-location/);
    assert.match(response.headers.get("content-location") ?? "", /^\/runs\/[0-9a-f-]{36}$/);
    await response.text();

    const stranger = await fetch(`${corsEngine.url}/info`, {
      headers: { origin: "https://evil.example", "x-api-key": KEY },
    });
    assert.equal(stranger.headers.get("access-control-allow-origin"), null, "another origin is not allowed");
  });

  test("without GRAPHBOX_CORS_ORIGINS no CORS header is sent", async () => {
    const answer = await fetch(`${engine.url}/info`, { headers: { origin: ORIGIN, "x-api-key": KEY } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("access-control-allow-origin"), null);
  });
});
