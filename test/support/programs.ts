/** Small programs the tests send, beside the shared corpus. */

/** A one-node graph whose node body is `body` (Python, indented by the caller's lines). */
export function pythonGraph(nodeBody: string, preamble = ""): string {
  return `from typing import TypedDict
from langgraph.graph import StateGraph, START, END
${preamble}

class State(TypedDict, total=False):
    value: int
    out: str


def work(state: State):
${nodeBody
  .split("\n")
  .map((line) => `    ${line}`)
  .join("\n")}


workflow = StateGraph(State)
workflow.add_node("work", work)
workflow.add_edge(START, "work")
workflow.add_edge("work", END)
app = workflow.compile()
`;
}

export const PYTHON_OK = pythonGraph(`return {"out": "fine"}`);

/**
 * A one-node Python graph with the node's name, state fields and preamble chosen: names that
 * collide with the engine's fields, a root-channel state (`state: "str"`), hostile preambles.
 */
export function pythonOneNode(options: {
  body: string;
  name?: string;
  preamble?: string;
  state?: string;
  fields?: string[];
}): string {
  const name = JSON.stringify(options.name ?? "work");
  return `from typing import TypedDict
from langgraph.graph import StateGraph, START, END
${options.preamble ?? ""}

class State(TypedDict, total=False):
${(options.fields ?? ["out: str"]).map((f) => `    ${f}`).join("\n")}

def work(state):
${options.body
  .split("\n")
  .map((line) => `    ${line}`)
  .join("\n")}

g = StateGraph(${options.state ?? "State"})
g.add_node(${name}, work)
g.add_edge(START, ${name})
g.add_edge(${name}, END)
app = g.compile()
`;
}

/**
 * The same one-node graph in TypeScript: types and an interface above the node, so the program's
 * line numbers differ from the transpiled module's and a traceback must go through the source map.
 */
export function typescriptGraph(nodeBody: string, preamble = ""): string {
  return `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";
${preamble}

interface Note {
  text: string;
}

const State = Annotation.Root({
  value: Annotation<number>(),
  out: Annotation<string>(),
});

async function work(state: typeof State.State): Promise<Partial<typeof State.State>> {
${nodeBody
  .split("\n")
  .map((line) => `  ${line}`)
  .join("\n")}
}

export const app = new StateGraph(State)
  .addNode("work", work)
  .addEdge(START, "work")
  .addEdge("work", END)
  .compile();
`;
}

export const TYPESCRIPT_OK = typescriptGraph(`return { out: "fine" };`);

/** The 1-based line of the first line of `source` that contains `text`. */
export function lineOf(source: string, text: string): number {
  const index = source.split("\n").findIndex((line) => line.includes(text));
  if (index < 0) throw new Error(`no line contains ${JSON.stringify(text)}`);
  return index + 1;
}

/** first → slow (sleeps `configurable.sleep`, else state["sleep"], seconds) → last; each appends its name to `log`. */
export const THREE_STEPS = `import time
from typing import TypedDict, Annotated
import operator
from langgraph.graph import StateGraph, START, END

class State(TypedDict, total=False):
    log: Annotated[list, operator.add]
    sleep: float

def first(state):
    return {"log": ["first"]}

def slow(state, config):
    time.sleep(config["configurable"].get("sleep", state.get("sleep", 0)))
    return {"log": ["slow"]}

def last(state):
    return {"log": ["last"]}

workflow = StateGraph(State)
for name, fn in (("first", first), ("slow", slow), ("last", last)):
    workflow.add_node(name, fn)
workflow.add_edge(START, "first")
workflow.add_edge("first", "slow")
workflow.add_edge("slow", "last")
workflow.add_edge("last", END)
`;
