"""Runs one job: load the program, find its graph, stream it, report events and the result."""

import time

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.types import Command

from . import errors
from .loader import NoGraphError, find_graph, load_program
from .meter import LlmMeter
from .serialize import to_json


class NodeTracker:
    """Turns LangGraph's `tasks` stream into node_start / node_end events with steps and timings.

    A super-step's tasks all start before any of them finishes, so a task that starts while
    none is running opens a new step.
    """

    def __init__(self, channel):
        self._channel = channel
        self._running = {}
        self.step = 0
        self.failed_node = None

    def observe(self, chunk: dict) -> None:
        name = chunk.get("name", "")
        if name.startswith("__"):
            return
        if "input" in chunk:
            if not self._running:
                self.step += 1
            self._running[chunk["id"]] = (name, time.perf_counter(), self.step)
            self._channel.send("node_start", node=name, step=self.step)
            return
        started = self._running.pop(chunk["id"], None)
        if started is None:
            return
        _, t0, step = started
        status = "error" if chunk.get("error") else "interrupted" if chunk.get("interrupts") else "ok"
        if status == "error":
            self.failed_node = name
        self._channel.send(
            "node_end", node=name, step=step, duration_ms=round((time.perf_counter() - t0) * 1000, 3), status=status
        )


def _graph_input(job: dict):
    if job.get("resume") is not None:
        return Command(resume=job["resume"])
    return job.get("inputs")


def _check_breakpoints(graph, job: dict) -> str | None:
    known = [name for name in graph.nodes if not name.startswith("__")]
    asked = job["config"]["interrupt_before"] + job["config"]["interrupt_after"]
    unknown = sorted({name for name in asked if name not in known})
    if unknown:
        return f"config.breakpoints names unknown node(s) {unknown}; the graph's nodes are {known}"
    return None


async def run(job: dict, channel) -> None:
    try:
        module = load_program(job["code"])
    except SyntaxError as err:
        channel.send("error", error_type="syntax_error", error=errors.describe(err), node=None,
                     traceback=errors.syntax_traceback(err))
        return
    except BaseException as err:  # the program's top level raised (ImportError, NameError, SystemExit...)
        channel.send("error", error_type="program_error", error=errors.describe(err), node=None,
                     traceback=errors.program_traceback(err))
        return

    try:
        graph = find_graph(module)
    except NoGraphError as err:
        channel.send("error", error_type="no_app", error=str(err), node=None, traceback="")
        return
    except BaseException as err:  # create_app() or compile() raised
        channel.send("error", error_type="program_error", error=errors.describe(err), node=None,
                     traceback=errors.program_traceback(err))
        return

    problem = _check_breakpoints(graph, job)
    if problem:
        channel.send("error", error_type="invalid_request", error=problem, node=None, traceback="")
        return

    # The engine's checkpointer replaces any the program set. pickle_fallback keeps values msgpack
    # refuses (a bare object() in state) from failing the run; only this thread's own data is read back.
    graph.checkpointer = InMemorySaver(serde=JsonPlusSerializer(pickle_fallback=True))
    config_in = job["config"]
    configurable = {**config_in.get("configurable", {}), "thread_id": job["thread_id"]}
    if config_in.get("checkpoint_id"):
        configurable["checkpoint_id"] = config_in["checkpoint_id"]
    config = {
        "configurable": configurable,
        "recursion_limit": config_in["recursion_limit"],
        "callbacks": [LlmMeter(channel, stream_tokens=job["stream"])],
    }
    stream = job["stream"]
    modes = ["tasks", "updates", "custom"] if stream else ["tasks"]
    tracker = NodeTracker(channel)

    try:
        async for mode, chunk in graph.astream(
            _graph_input(job), config, stream_mode=modes,
            interrupt_before=config_in["interrupt_before"] or None,
            interrupt_after=config_in["interrupt_after"] or None,
        ):
            if mode == "tasks":
                tracker.observe(chunk)
            elif mode == "updates":
                if "__interrupt__" not in chunk:
                    channel.send("update", data=to_json(chunk))
            elif mode == "custom":
                channel.send("custom", data=to_json(chunk))
    except BaseException as err:  # SystemExit and KeyboardInterrupt from a node are the program's errors too
        channel.send("error", error_type="program_error", error=errors.describe(err), node=tracker.failed_node,
                     traceback=errors.program_traceback(err))
        return

    snapshot = await graph.aget_state(config)
    values = snapshot.values if isinstance(snapshot.values, dict) else {"__root__": snapshot.values}
    interrupts = [
        {"id": str(item.id), "value": to_json(item.value)} for task in snapshot.tasks for item in task.interrupts
    ]
    next_nodes = list(snapshot.next)
    messages = values.get("messages")
    channel.send(
        "result",
        status="interrupted" if next_nodes or interrupts else "success",
        messages=to_json(messages) if isinstance(messages, list) else [],
        state=to_json(values),
        next=next_nodes,
        interrupts=interrupts,
        checkpoint_id=(snapshot.config or {}).get("configurable", {}).get("checkpoint_id"),
    )
