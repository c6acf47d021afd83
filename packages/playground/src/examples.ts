/** Programs to start from, one per thing the page shows. */
import type { Language } from "./client.ts";

export interface Example {
  name: string;
  language: Language;
  inputs: string;
  code: string;
}

const branching = `import time
from typing import TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict):
    text: str
    kind: str
    answer: str


def classify(state: State):
    return {"kind": "question" if state["text"].strip().endswith("?") else "statement"}


def route(state: State):
    return state["kind"]


def answer(state: State):
    time.sleep(1.0)  # a slow node: watch it light up
    return {"answer": f"You asked: {state['text']}"}


def acknowledge(state: State):
    return {"answer": f"Noted: {state['text']}"}


def finish(state: State):
    return {"answer": state["answer"] + " (done)"}


workflow = StateGraph(State)
workflow.add_node("classify", classify)
workflow.add_node("answer", answer)
workflow.add_node("acknowledge", acknowledge)
workflow.add_node("finish", finish)
workflow.add_edge(START, "classify")
workflow.add_conditional_edges("classify", route, {"question": "answer", "statement": "acknowledge"})
workflow.add_edge("answer", "finish")
workflow.add_edge("acknowledge", "finish")
workflow.add_edge("finish", END)

app = workflow.compile()
`;

const review = `from typing import TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt


class State(TypedDict):
    draft: str
    approved: bool
    published: str


def write(state: State):
    return {"draft": f"Announcement: {state['draft']}"}


def review(state: State):
    # Pauses the run; the answer typed into the page comes back as interrupt()'s value.
    answer = interrupt({"question": "Publish this draft?", "draft": state["draft"]})
    return {"approved": answer == "yes"}


def publish(state: State):
    return {"published": state["draft"] if state["approved"] else "(discarded)"}


# Left uncompiled: the engine compiles it with its own checkpointer, which interrupt() needs.
workflow = StateGraph(State)
workflow.add_node("write", write)
workflow.add_node("review", review)
workflow.add_node("publish", publish)
workflow.add_edge(START, "write")
workflow.add_edge("write", "review")
workflow.add_edge("review", "publish")
workflow.add_edge("publish", END)
`;

const llm = `from langchain_openai import ChatOpenAI
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, MessagesState, StateGraph

# The engine holds the provider's key: the program never sees it.
llm = ChatOpenAI(model="gpt-4o-mini", streaming=True)


def plan(state: MessagesState):
    get_stream_writer()({"progress": "planning the answer"})
    print("plan: asking the model")
    return {}


async def write(state: MessagesState):
    return {"messages": [await llm.ainvoke(state["messages"])]}


builder = StateGraph(MessagesState)
builder.add_node("plan", plan)
builder.add_node("write", write)
builder.add_edge(START, "plan")
builder.add_edge("plan", "write")
builder.add_edge("write", END)

app = builder.compile()
`;

const echoTs = `import { StateGraph, START, END, MessagesAnnotation, Annotation } from "@langchain/langgraph";
import { AIMessage } from "@langchain/core/messages";

const State = Annotation.Root({
  ...MessagesAnnotation.spec,
  count: Annotation<number>({ reducer: (_old, next) => next, default: () => 0 }),
});

const greet = (state: typeof State.State) => {
  const last = state.messages[state.messages.length - 1];
  return { messages: [new AIMessage(\`echo: \${last.content}\`)], count: state.count + 1 };
};

const shout = (state: typeof State.State) => {
  const last = state.messages[state.messages.length - 1];
  return { messages: [new AIMessage(String(last.content).toUpperCase())], count: state.count + 1 };
};

export const app = new StateGraph(State)
  .addNode("greet", greet)
  .addNode("shout", shout)
  .addEdge(START, "greet")
  .addEdge("greet", "shout")
  .addEdge("shout", END)
  .compile();
`;

const failing = `from typing import TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict):
    value: int


def double(state: State):
    return {"value": state["value"] * 2}


def validate(state: State):
    if state["value"] > 10:
        raise ValueError(f"value too large: {state['value']}")
    return {}


workflow = StateGraph(State)
workflow.add_node("double", double)
workflow.add_node("validate", validate)
workflow.add_edge(START, "double")
workflow.add_edge("double", "validate")
workflow.add_edge("validate", END)

app = workflow.compile()
`;

export const EXAMPLES: readonly Example[] = [
  { name: "Branching (Python)", language: "python", inputs: '{ "text": "What is LangGraph?" }', code: branching },
  {
    name: "Human review: interrupt() (Python)",
    language: "python",
    inputs: '{ "draft": "we ship on Monday" }',
    code: review,
  },
  {
    name: "LLM streaming, custom events, logs (Python)",
    language: "python",
    inputs: '{ "messages": [{ "role": "user", "content": "Say hello!" }] }',
    code: llm,
  },
  {
    name: "Echo (TypeScript)",
    language: "typescript",
    inputs: '{ "messages": [{ "role": "user", "content": "Hello" }] }',
    code: echoTs,
  },
  { name: "An error in a node (Python)", language: "python", inputs: '{ "value": 7 }', code: failing },
];
