# The Python twin of simple_runtime.mts (langgraphjs libs/langgraph-api/tests/graphs/simple_runtime.mts).
from typing import Literal, TypedDict

from langgraph.graph import START, StateGraph
from langgraph.runtime import Runtime


class State(TypedDict, total=False):
    message: str
    model: Literal["openai", "anthropic", "unknown"]


class Context(TypedDict, total=False):
    model: Literal["openai", "anthropic", "unknown"]


def use_context(state: State, runtime: Runtime[Context]):
    return {"model": (runtime.context or {}).get("model")}


builder = StateGraph(State, context_schema=Context)
builder.add_node("use_context", use_context)
builder.add_edge(START, "use_context")
graph = builder.compile()
