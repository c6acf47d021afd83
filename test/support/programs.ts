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
${nodeBody.split("\n").map((line) => `    ${line}`).join("\n")}


workflow = StateGraph(State)
workflow.add_node("work", work)
workflow.add_edge(START, "work")
workflow.add_edge("work", END)
app = workflow.compile()
`;
}

export const PYTHON_OK = pythonGraph(`return {"out": "fine"}`);
