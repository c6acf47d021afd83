"""LangGraph's StateSnapshot as the Agent API's ThreadState, field by field as LangGraph's JS server
(the reference) answers GET /threads/{id}/state: `values`, `next`, `tasks` (each `{id, name, error,
interrupts, path, checkpoint, state, result}`), `metadata` (left out with no checkpoint), `created_at`,
`checkpoint`, `parent_checkpoint`. Mirrors the JS harness's thread-state.mjs.
"""

import ast
import datetime
import json
import re

from langgraph.types import StateSnapshot

from .agent_json import to_agent_json


def _configurable(config) -> dict | None:
    configurable = config.get("configurable") if isinstance(config, dict) else None
    return configurable if isinstance(configurable, dict) else None


def config_to_checkpoint(config) -> dict | None:
    """`{thread_id, checkpoint_ns, checkpoint_id, checkpoint_map}` of a config naming one checkpoint, else None."""
    c = _configurable(config)
    if not c or not isinstance(c.get("thread_id"), str) or not isinstance(c.get("checkpoint_id"), str):
        return None
    return {
        "thread_id": c["thread_id"],
        "checkpoint_ns": c.get("checkpoint_ns") or "",
        "checkpoint_id": c["checkpoint_id"],
        "checkpoint_map": to_agent_json(c.get("checkpoint_map")) or None,
    }


def task_config_to_checkpoint(config) -> dict | None:
    """The same for a task's config, which names its subgraph's namespace but not always a checkpoint."""
    c = _configurable(config)
    if not c or not isinstance(c.get("thread_id"), str):
        return None
    return {
        "thread_id": c["thread_id"],
        "checkpoint_ns": c.get("checkpoint_ns") or "",
        "checkpoint_id": c.get("checkpoint_id") if isinstance(c.get("checkpoint_id"), str) else None,
        "checkpoint_map": to_agent_json(c.get("checkpoint_map")) or None,
    }


# How LangGraph stores a failed task's error: the exception's repr, `ValueError('boom')`.
_ERROR_REPR = re.compile(r"([A-Za-z_][\w.]*)\((.*)\)", re.DOTALL)
_MAX_ERROR_REPR = 10_000


def _error_record(error) -> dict:
    if isinstance(error, BaseException):
        return {"message": str(error), "name": type(error).__name__}
    text = str(error)
    match = _ERROR_REPR.fullmatch(text) if len(text) <= _MAX_ERROR_REPR else None
    if match:
        try:
            message = ast.literal_eval(match.group(2) or "''")  # literals only: the text stays data
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            message = match.group(2)
        return {"message": message if isinstance(message, str) else str(message), "name": match.group(1)}
    return {"message": text, "name": "Error"}


def _error_text(error) -> str | None:
    """As the JS server shows a failed task's error: the JSON text of `{message, name}`."""
    if error is None:
        return None
    return json.dumps(_error_record(error), separators=(",", ":"), ensure_ascii=False)


def _subgraph_ref(state) -> dict | None:
    """`{thread_id, checkpoint_ns}` of a task whose subgraph has checkpoints (its config), as the server shows it."""
    c = _configurable(state) if not isinstance(state, StateSnapshot) else None
    if not c or not isinstance(c.get("thread_id"), str) or not isinstance(c.get("checkpoint_ns"), str):
        return None
    return {"thread_id": c["thread_id"], "checkpoint_ns": c["checkpoint_ns"]}


def _task(task) -> dict:
    state = task.state
    return {
        "id": task.id,
        "name": task.name,
        "error": _error_text(task.error),
        "interrupts": to_agent_json(list(task.interrupts or ())),
        "path": to_agent_json(list(task.path or ())),
        # A subgraph's task names the subgraph's namespace; with `subgraphs` it holds its whole state.
        "checkpoint": _subgraph_ref(state),
        "state": thread_state(state) if isinstance(state, StateSnapshot) else None,
        "result": to_agent_json(task.result),
    }


def _timestamp(text):
    """A checkpoint's time as the JS server writes timestamps: UTC, milliseconds, `Z`."""
    try:
        moment = datetime.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def thread_state(snapshot: StateSnapshot) -> dict:
    state = {
        "values": to_agent_json(snapshot.values),
        "next": list(snapshot.next),
        "tasks": [_task(task) for task in snapshot.tasks],
        "metadata": to_agent_json(snapshot.metadata),
        "created_at": _timestamp(snapshot.created_at) if snapshot.created_at else None,
        "checkpoint": config_to_checkpoint(snapshot.config),
        "parent_checkpoint": config_to_checkpoint(snapshot.parent_config),
    }
    if snapshot.metadata is None:  # a thread with no checkpoint yet: the server's JSON has no such key
        del state["metadata"]
    return state
