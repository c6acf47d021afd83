"""Runs one job: load the program, find its graph, stream it, report events and the result."""

import time

from . import errors, ops
from .checkpointer import EngineCheckpointSaver
from .chunks import ChunkForwarder
from .loader import NoGraphError, find_graph_async, load_program
from .meter import LlmMeter
from .run_input import graph_input
from .serde import use_for_program_savers
from .serialize import to_json
from .store import EngineStore
from .thread_state import thread_state
from .tokens import token_of


class NodeTracker:
    """Turns LangGraph's `tasks` stream into node_start / node_end events with steps and timings.

    A super-step's tasks all start before any of them finishes, so a task that starts while
    none is running opens a new step.
    """

    def __init__(self, channel, debug: bool):
        self._channel = channel
        self._running = {}
        self.step = 0
        self.failed_node = None
        # With config.debug: the tasks of the current step, sent with the checkpoint that ends it.
        self._debug = debug
        self._debug_tasks = []

    def observe(self, chunk: dict) -> None:
        name = chunk.get("name", "")
        if name.startswith("__"):
            return
        if "input" in chunk:
            if not self._running:
                self.step += 1
            self._running[chunk["id"]] = (name, time.perf_counter(), self.step, chunk.get("input"))
            self._channel.send("node_start", node=name, step=self.step)
            return
        started = self._running.pop(chunk["id"], None)
        if started is None:
            return
        _, t0, step, task_input = started
        status = "error" if chunk.get("error") else "interrupted" if chunk.get("interrupts") else "ok"
        if status == "error":
            self.failed_node = name
        duration_ms = round((time.perf_counter() - t0) * 1000, 3)
        self._channel.send("node_end", node=name, step=step, duration_ms=duration_ms, status=status)
        if self._debug:
            error = chunk.get("error")
            self._debug_tasks.append({
                "id": chunk["id"], "node": name, "status": status, "duration_ms": duration_ms,
                "input": to_json(task_input), "writes": to_json(chunk.get("result")),
                "error": errors.describe(error) if isinstance(error, BaseException) else to_json(error),
                "interrupts": to_json(chunk.get("interrupts") or []),
            })

    def blamed_node(self) -> str | None:
        """The node an exception came from: the task reported failed, else the only one still running."""
        if self.failed_node:
            return self.failed_node
        names = {name for name, *_ in self._running.values()}
        return names.pop() if len(names) == 1 else None

    def checkpoint(self, chunk: dict) -> None:
        """A step ended (or the run began): with config.debug, report the step and the state after it."""
        if not self._debug:
            return
        metadata = chunk.get("metadata") or {}
        self._channel.send("debug", data={
            "step": metadata.get("step"),
            "source": metadata.get("source"),
            "checkpoint_id": ((chunk.get("config") or {}).get("configurable") or {}).get("checkpoint_id"),
            "tasks": self._debug_tasks,
            "state": to_json(chunk.get("values")),
            "next": list(chunk.get("next") or []),
        })
        self._debug_tasks = []


def _check_breakpoints(graph, job: dict) -> str | None:
    known = [name for name in graph.nodes if not name.startswith("__")]
    asked = job["config"]["interrupt_before"] + job["config"]["interrupt_after"]
    unknown = sorted({name for name in asked if name not in known})
    if unknown:
        return f"config.breakpoints names unknown node(s) {unknown}; the graph's nodes are {known}"
    return None


async def run(job: dict, channel) -> None:
    use_for_program_savers()
    try:
        module = load_program(job["code"], job.get("files"))
    except SyntaxError as err:
        channel.send("error", error_type="syntax_error", error=errors.describe(err), node=None,
                     traceback=errors.syntax_traceback(err))
        return
    except BaseException as err:  # the program's top level raised (ImportError, NameError, SystemExit...)
        channel.send("error", error_type="program_error", error=errors.describe(err), node=None,
                     traceback=errors.program_traceback(err))
        return

    try:
        # A graph factory gets the run's config, as LangGraph's servers give theirs.
        factory_config = {"configurable": {**(job["config"].get("configurable") or {}), "thread_id": job["thread_id"]}}
        graph = await find_graph_async(module, job["config"].get("graph"), factory_config)
    except NoGraphError as err:
        channel.send("error", error_type="no_app", error=str(err), node=None, traceback="")
        return
    except BaseException as err:  # create_app() or compile() raised
        channel.send("error", error_type="program_error", error=errors.describe(err), node=None,
                     traceback=errors.program_traceback(err))
        return

    graph.store = EngineStore(channel)  # in place of the program's, so memories outlive the run and reach other threads
    if job.get("op", "run") != "run":
        await ops.answer(job, channel, graph)
        return

    problem = _check_breakpoints(graph, job)
    if problem:
        channel.send("error", error_type="invalid_request", error=problem, node=None, traceback="")
        return

    # The engine's checkpointer replaces any the program set, so threads live in the engine's store.
    graph.checkpointer = EngineCheckpointSaver(channel)
    config_in = job["config"]
    configurable = {**config_in.get("configurable", {}), "thread_id": job["thread_id"]}
    if config_in.get("checkpoint_id"):
        configurable["checkpoint_id"] = config_in["checkpoint_id"]
    config = {
        "configurable": configurable,
        "recursion_limit": config_in["recursion_limit"],
        "callbacks": [LlmMeter(channel)],
        # The run's metadata (the Agent API's): LangGraph copies it into each checkpoint's metadata.
        "metadata": dict(config_in.get("metadata") or {}),
    }
    stream = job["stream"]
    # `messages` yields the tokens of every LLM call; a run nobody streams does not pay for it.
    modes = ["tasks", "updates", "custom", "messages"] if stream else ["tasks"]
    if job.get("debug"):
        modes.append("checkpoints")
    tracker = NodeTracker(channel, debug=bool(job.get("debug")))
    chunks = ChunkForwarder(channel, job)
    own_modes = set(modes)
    modes += [mode for mode in chunks.modes if mode not in own_modes]
    nested = stream or chunks.subgraphs

    try:
        async for item in graph.astream(
            graph_input(job), config, stream_mode=modes,
            # Per run, as LangGraph has it: a thread keeps no context from one run to the next.
            context=config_in.get("context"),
            interrupt_before=config_in["interrupt_before"] or None,
            interrupt_after=config_in["interrupt_after"] or None,
            # Each step's checkpoint is stored before the next step starts, so a killed run resumes.
            durability="sync",
            # So that `messages` reaches the LLM calls inside subgraphs (an agent used as a node).
            subgraphs=nested,
        ):
            ns, mode, chunk = item if nested else ((), *item)
            chunks.forward(ns, mode, chunk)
            if mode not in own_modes:
                continue  # asked for by stream_modes only: no event of the engine's own comes of it
            if mode == "messages":
                token = token_of(chunk)
                if token:
                    channel.send("token", node=token[0], content=token[1])
            elif ns:
                continue  # a subgraph's own tasks, updates and custom events stay inside it, as before
            elif mode == "tasks":
                tracker.observe(chunk)
            elif mode == "updates":
                if "__interrupt__" not in chunk:
                    channel.send("update", data=to_json(chunk))
            elif mode == "custom":
                channel.send("custom", data=to_json(chunk))
            elif mode == "checkpoints":
                tracker.checkpoint(chunk)
    except BaseException as err:  # SystemExit and KeyboardInterrupt from a node are the program's errors too
        channel.send("error", error_type="program_error", error=errors.describe(err), node=tracker.blamed_node(),
                     traceback=errors.program_traceback(err))
        return

    # The thread's head now (after a time-travel run, not the checkpoint it started from).
    head = {**config, "configurable": {k: v for k, v in configurable.items() if k != "checkpoint_id"}}
    snapshot = await graph.aget_state(head)
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
        thread_state=thread_state(snapshot),
    )
