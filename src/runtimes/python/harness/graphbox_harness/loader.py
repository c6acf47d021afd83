"""Loads a program as a real module and finds its graph."""

import linecache
import sys
import types

from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

PROGRAM_FILENAME = "<workflow>"
MODULE_NAME = "__workflow__"
GRAPH_NAMES = ("app", "graph", "workflow", "builder")


class NoGraphError(Exception):
    pass


class ProgramExit(Exception):
    """What `sys.exit()` raises inside a program.

    A real SystemExit escaping a node kills asyncio's loop mid-step and surfaces as a bare
    CancelledError; an ordinary exception fails the node like any other error, and says so.
    """

    def __init__(self, code=None):
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return f"the program called sys.exit({self.code!r})"


def _program_exit(code=None):
    raise ProgramExit(code)


def seed_globals() -> dict:
    """The specification's pre-filled globals, so programs written against it need no imports."""
    from typing import Annotated, TypedDict

    from langchain_anthropic import ChatAnthropic
    from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
    from langchain_openai import ChatOpenAI
    from langgraph.checkpoint.memory import MemorySaver
    from langgraph.graph import END, START
    from langgraph.graph.message import add_messages

    return {
        "StateGraph": StateGraph, "START": START, "END": END, "add_messages": add_messages,
        "MemorySaver": MemorySaver, "HumanMessage": HumanMessage, "AIMessage": AIMessage,
        "BaseMessage": BaseMessage, "TypedDict": TypedDict, "Annotated": Annotated,
        "ChatOpenAI": ChatOpenAI, "ChatAnthropic": ChatAnthropic,
    }


def load_program(source: str) -> types.ModuleType:
    """Runs the source as a module named __workflow__.

    One namespace (not exec with separate globals and locals, which hides top-level names from
    the program's own functions), registered in sys.modules so type hints and pickling resolve,
    and in linecache so tracebacks show the program's lines.
    """
    code = compile(source, PROGRAM_FILENAME, "exec", dont_inherit=True)
    sys.exit = _program_exit
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = PROGRAM_FILENAME
    module.__dict__.update(seed_globals())
    sys.modules[MODULE_NAME] = module
    linecache.cache[PROGRAM_FILENAME] = (len(source), None, source.splitlines(keepends=True), PROGRAM_FILENAME)
    exec(code, module.__dict__)
    return module


def _as_graph(value):
    if isinstance(value, Pregel):
        return value
    if isinstance(value, StateGraph):
        return value.compile()
    return None


def find_graph(module: types.ModuleType) -> Pregel:
    """First of: `app`, `graph`, `workflow`, `builder` (compiled, or a StateGraph we compile); `create_app()`."""
    for name in GRAPH_NAMES:
        graph = _as_graph(module.__dict__.get(name))
        if graph is not None:
            return graph
    factory = module.__dict__.get("create_app")
    if callable(factory):
        graph = _as_graph(factory())
        if graph is not None:
            return graph
        raise NoGraphError("create_app() returned neither a compiled graph nor a StateGraph")
    raise NoGraphError(
        "no graph found: define `app` (a compiled graph or a StateGraph), or a StateGraph named "
        "`graph`, `workflow` or `builder`, or a zero-argument function `create_app()` returning one"
    )
