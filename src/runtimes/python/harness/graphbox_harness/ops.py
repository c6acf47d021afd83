"""The ops of a job other than `run` (JOB_OPS in messages.ts): the program is loaded and its graph
found as for a run, the engine's checkpointer attached, and one `answer` (or `error`) sent.

- `state`: the thread's ThreadState at `checkpoint_id` (null: the head), subgraphs' states with `subgraphs`;
- `history`: ThreadStates newest first (`limit`, default 10; `before`; `checkpoint_id`; `filter` on metadata);
- `update_state`: `update_state(values, as_node)` from `checkpoint_id` or the head: the new checkpoint;
- `describe`: the graph's drawing and schemas (describe.py).

`state`, `history` and `update_state` read the namespace `checkpoint_ns` ("" or absent: the root graph;
`name:task_id|...`: a subgraph's, which LangGraph's get_state/update_state hand to that subgraph).
"""

from langgraph.errors import InvalidUpdateError

from . import errors
from .agent_json import to_agent_json
from .checkpointer import EngineCheckpointSaver
from .describe import describe
from .thread_state import thread_state

DEFAULT_HISTORY_LIMIT = 10


def _config(job: dict, args: dict, checkpoint_id=None) -> dict:
    # The job's configurable too (the engine's graph_id...), which LangGraph copies into the metadata
    # of a checkpoint update_state writes, as LangGraph's servers have it.
    ns = args.get("checkpoint_ns")
    configurable = {
        **(job["config"].get("configurable") or {}),
        "thread_id": job["thread_id"],
        "checkpoint_ns": ns if isinstance(ns, str) else "",
    }
    if isinstance(checkpoint_id, str) and checkpoint_id:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable}


def _checkpoint_id(value) -> str | None:
    """A checkpoint id, given as itself or as the checkpoint object the SDKs send (`{checkpoint_id, ...}`)."""
    if isinstance(value, dict):
        value = value.get("checkpoint_id", (value.get("configurable") or {}).get("checkpoint_id"))
    return value if isinstance(value, str) and value else None


async def _state(graph, job: dict, args: dict):
    config = _config(job, args, args.get("checkpoint_id"))
    snapshot = await graph.aget_state(config, subgraphs=bool(args.get("subgraphs")))
    return thread_state(snapshot)


async def _history(graph, job: dict, args: dict):
    limit = args.get("limit")
    before = _checkpoint_id(args.get("before"))
    states = []
    async for snapshot in graph.aget_state_history(
        _config(job, args, args.get("checkpoint_id")),
        filter=args.get("filter") if isinstance(args.get("filter"), dict) else None,
        before=_config(job, args, before) if before else None,
        limit=limit if isinstance(limit, int) and limit > 0 else DEFAULT_HISTORY_LIMIT,
    ):
        states.append(thread_state(snapshot))
    return states


async def _update_state(graph, job: dict, args: dict):
    as_node = args.get("as_node")
    config = await graph.aupdate_state(
        _config(job, args, args.get("checkpoint_id")),
        args.get("values"),
        as_node=as_node if isinstance(as_node, str) else None,
    )
    return {"checkpoint": to_agent_json(config.get("configurable"))}


async def _describe(graph, job: dict, args: dict):
    return describe(graph, args)


_OPS = {"state": _state, "history": _history, "update_state": _update_state, "describe": _describe}


async def answer(job: dict, channel, graph) -> None:
    op = _OPS.get(job["op"]) if isinstance(job.get("op"), str) else None
    if op is None:
        channel.send("error", error_type="invalid_request", error=f"unknown op {str(job.get('op'))[:64]!r}",
                     node=None, traceback="")
        return
    graph.checkpointer = EngineCheckpointSaver(channel)
    args = job.get("args") if isinstance(job.get("args"), dict) else {}
    try:
        data = await op(graph, job, args)
    except (InvalidUpdateError, NotImplementedError) as err:  # an update or drawing this graph cannot take
        channel.send("error", error_type="invalid_request", error=errors.describe(err), node=None, traceback="")
        return
    except BaseException as err:  # the program's reducers and the checkpointer run here
        channel.send("error", error_type="program_error", error=errors.describe(err), node=None,
                     traceback=errors.program_traceback(err))
        return
    channel.send("answer", data=data)
