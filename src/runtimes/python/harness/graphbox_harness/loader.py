"""Loads a program as a real module and finds its graph."""

import asyncio
import importlib.machinery
import inspect
import linecache
import sys
import types

from langgraph.graph import StateGraph
from langgraph.pregel import Pregel

from .program_files import ProgramFiles

PROGRAM_FILENAME = "<workflow>"
MODULE_NAME = "__workflow__"
GRAPH_NAMES = ("app", "graph", "workflow", "builder")
# The names the program's code is compiled under (its tracebacks show these frames): the entry's, and its files'.
program_filenames = {PROGRAM_FILENAME}


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


def load_program(source: str, files: dict[str, str] | None = None) -> types.ModuleType:
    """Runs the source as a module named __workflow__.

    One namespace (not exec with separate globals and locals, which hides top-level names from
    the program's own functions), registered in sys.modules so type hints and pickling resolve,
    and in linecache so tracebacks show the program's lines. With `files`, __workflow__ is a
    package and they are its modules (program_files.py).
    """
    code = compile(source, PROGRAM_FILENAME, "exec", dont_inherit=True)
    sys.exit = _program_exit
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = PROGRAM_FILENAME
    module.__dict__.update(seed_globals())
    if files:
        finder = ProgramFiles(MODULE_NAME, files)
        module.__path__ = []
        module.__package__ = MODULE_NAME
        module.__spec__ = importlib.machinery.ModuleSpec(MODULE_NAME, finder, is_package=True)
        sys.meta_path.insert(0, finder)
        program_filenames.update(finder.filenames)
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


def _top_level(namespace: dict, kind: type) -> list[tuple[str, object]]:
    """The program's top-level values of `kind`, each once, under the first name it has."""
    seen, found = set(), []
    for name, value in namespace.items():
        if isinstance(value, kind) and not name.startswith("__") and id(value) not in seen:
            seen.add(id(value))
            found.append((name, value))
    return found


def _inner_ids(compiled: list, builders: list) -> set[int]:
    """Graphs that are parts of others: a node's subgraph, at any depth, or a builder's node."""
    inner = set()
    for _, graph in compiled:
        inner.update(id(sub) for _, sub in graph.get_subgraphs(recurse=True))
    for _, builder in builders:
        for spec in builder.nodes.values():
            if isinstance(spec.runnable, Pregel):
                inner.add(id(spec.runnable))
                inner.update(id(sub) for _, sub in spec.runnable.get_subgraphs(recurse=True))
    return inner


def _only_graph(namespace: dict):
    """The one compiled graph at the top level that no other contains, else the one StateGraph not compiled."""
    compiled = _top_level(namespace, Pregel)
    builders = _top_level(namespace, StateGraph)
    inner = _inner_ids(compiled, builders)
    outer = [(name, graph) for name, graph in compiled if id(graph) not in inner]
    if len(outer) == 1:
        return outer[0][1]
    used = {id(getattr(graph, "builder", None)) for _, graph in compiled}
    loose = [(name, builder) for name, builder in builders if id(builder) not in used]
    if not outer and len(loose) == 1:
        return loose[0][1].compile()
    several = outer or loose
    if several:
        names = ", ".join(f"`{name}`" for name, _ in several)
        raise NoGraphError(
            f"the program defines {len(several)} graphs ({names}): set `config.graph` to the name of the one "
            "to run (or name it `app`)"
        )
    raise NoGraphError(
        "no graph found: define `app` (a compiled graph or a StateGraph), or a StateGraph named "
        "`graph`, `workflow` or `builder`, or a zero-argument function `create_app()` returning one, "
        "or one compiled graph under any name"
    )


async def _settled(value):
    """A value the program holds, awaited when it is awaitable (a coroutine, a task, a future)."""
    return await value if inspect.isawaitable(value) else value


def _takes_config(factory) -> bool:
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return False
    # Only a parameter that must be given: a factory with defaults only is called as before, with none.
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return any(p.kind in positional and p.default is inspect.Parameter.empty for p in parameters)


async def _made(factory, config: dict):
    """What a graph factory makes; as LangGraph's servers call theirs, with the run's config when it takes one, awaited."""
    return await _settled(factory(config) if _takes_config(factory) else factory())


async def _chosen(namespace: dict, choice: str, config: dict):
    """The graph config.graph names: a compiled graph, a StateGraph, a function (sync or async)
    returning one, or an awaitable of one."""
    value = namespace.get(choice)
    graph = _as_graph(await (_made(value, config) if isinstance(value, types.FunctionType) else _settled(value)))
    if graph is not None:
        return graph
    graphs = [name for name, _ in _top_level(namespace, Pregel) + _top_level(namespace, StateGraph)]
    what = "the program does not define" if choice not in namespace else "is not a graph"
    raise NoGraphError(f"config.graph is {choice!r}, which {what}; the program's graphs are {graphs}")


async def find_graph_async(module: types.ModuleType, choice: str | None = None, config: dict | None = None) -> Pregel:
    """config.graph's choice; else the first of `app`, `graph`, `workflow`, `builder` (compiled, or a
    StateGraph we compile, or an awaitable of one); `create_app()` (an async one awaited); else the
    one graph at the top level. Factories get `config` (the run's) when they take an argument."""
    config = config if config is not None else {"configurable": {}}
    if choice:
        return await _chosen(module.__dict__, choice, config)
    for name in GRAPH_NAMES:
        graph = _as_graph(await _settled(module.__dict__.get(name)))
        if graph is not None:
            return graph
    factory = module.__dict__.get("create_app")
    if callable(factory):
        graph = _as_graph(await _made(factory, config))
        if graph is not None:
            return graph
        raise NoGraphError("create_app() returned neither a compiled graph nor a StateGraph")
    return _only_graph(module.__dict__)


def find_graph(module: types.ModuleType, choice: str | None = None) -> Pregel:
    """find_graph_async for callers outside an event loop (the benchmarks)."""
    return asyncio.run(find_graph_async(module, choice))
