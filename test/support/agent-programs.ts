/** Programs the Agent API tests register (PUT /graphs/{id}), in both languages. */
import assert from "node:assert/strict";

const PY_CHAT = `from langchain_openai import ChatOpenAI
from langgraph.graph import StateGraph, MessagesState, START, END

model = ChatOpenAI(model="gpt-4o-mini", streaming=True)

def chat(state: MessagesState):
    return {"messages": [model.invoke(state["messages"])]}

builder = StateGraph(MessagesState)
builder.add_node("chat", chat)
builder.add_edge(START, "chat")
builder.add_edge("chat", END)
graph = builder.compile()
`;

const TS_CHAT = `import { ChatOpenAI } from "@langchain/openai";
import { StateGraph, MessagesAnnotation, START, END } from "@langchain/langgraph";

const model = new ChatOpenAI({ model: "gpt-4o-mini", streaming: true });

export const graph = new StateGraph(MessagesAnnotation)
  .addNode("chat", async (state) => ({ messages: [await model.invoke(state.messages)] }))
  .addEdge(START, "chat")
  .addEdge("chat", END)
  .compile();
`;

const PY_APPROVAL = `from typing import TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.types import interrupt

class State(TypedDict, total=False):
    draft: str
    approved: bool
    done: str

def write(state: State):
    return {"draft": "draft of " + state.get("draft", "")}

def review(state: State):
    answer = interrupt({"question": "approve?", "draft": state["draft"]})
    return {"approved": answer == "yes"}

def finish(state: State):
    return {"done": "published" if state["approved"] else "discarded"}

builder = StateGraph(State)
builder.add_node("write", write)
builder.add_node("review", review)
builder.add_node("finish", finish)
builder.add_edge(START, "write")
builder.add_edge("write", "review")
builder.add_edge("review", "finish")
builder.add_edge("finish", END)
graph = builder.compile()
`;

const TS_APPROVAL = `import { StateGraph, Annotation, START, END, interrupt } from "@langchain/langgraph";

const State = Annotation.Root({
  draft: Annotation<string>(),
  approved: Annotation<boolean>(),
  done: Annotation<string>(),
});

export const graph = new StateGraph(State)
  .addNode("write", (s) => ({ draft: "draft of " + (s.draft ?? "") }))
  .addNode("review", (s) => ({ approved: interrupt({ question: "approve?", draft: s.draft }) === "yes" }))
  .addNode("finish", (s) => ({ done: s.approved ? "published" : "discarded" }))
  .addEdge(START, "write")
  .addEdge("write", "review")
  .addEdge("review", "finish")
  .addEdge("finish", END)
  .compile();
`;

const PY_SLOW = `import time
from typing import TypedDict
from langgraph.graph import StateGraph, START, END

class State(TypedDict, total=False):
    n: int

def tick(state: State):
    time.sleep(float(state.get("n", 0)))
    return {"n": state.get("n", 0) + 1}

builder = StateGraph(State)
builder.add_node("tick", tick)
builder.add_edge(START, "tick")
builder.add_edge("tick", END)
graph = builder.compile()
`;

const PY_MEMORY = `from typing import TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.config import get_store
from langgraph.store.memory import InMemoryStore

class State(TypedDict, total=False):
    remember: str
    recalled: list

def remember(state: State, config):
    store = get_store()
    user = config["configurable"]["user_id"]
    if state.get("remember"):
        store.put(("memories", user), state["remember"], {"text": state["remember"]})
    found = store.search(("memories", user))
    return {"recalled": sorted(item.value["text"] for item in found)}

builder = StateGraph(State)
builder.add_node("remember", remember)
builder.add_edge(START, "remember")
builder.add_edge("remember", END)
# As LangGraph's memory how-to does: the engine's store takes this one's place.
graph = builder.compile(store=InMemoryStore())
`;

export const AGENT_PROGRAMS = {
  "py-chat": { code: PY_CHAT, language: "python" },
  "ts-chat": { code: TS_CHAT, language: "typescript" },
  "py-approval": { code: PY_APPROVAL, language: "python" },
  "ts-approval": { code: TS_APPROVAL, language: "typescript" },
  "py-slow": { code: PY_SLOW, language: "python" },
  "py-memory": { code: PY_MEMORY, language: "python" },
} as const;

/** Registers a program for a key; fails the test unless the engine accepts it. */
export async function registerProgram(options: {
  url: string;
  key: string;
  graphId: string;
  code: string;
  language: "python" | "typescript";
}): Promise<Record<string, unknown>> {
  const response = await fetch(`${options.url}/graphs/${options.graphId}`, {
    method: "PUT",
    headers: { "content-type": "application/json", "x-api-key": options.key },
    body: JSON.stringify({ code: options.code, language: options.language }),
  });
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(response.status, 200, JSON.stringify(body));
  return body;
}
