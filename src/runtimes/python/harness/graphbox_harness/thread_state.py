"""LangGraph's StateSnapshot as the Agent API's ThreadState, field by field as LangGraph's servers
answer GET /threads/{id}/state: `values`, `next`, `tasks` (each `{id, name, path, error, interrupts,
checkpoint, state, result}`), `metadata`, `created_at`, `checkpoint`, `parent_checkpoint`, and the
`interrupts` LangGraph's Python server adds.
"""

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


def _error_text(error) -> str | None:
    if error is None:
        return None
    return str(error) if isinstance(error, BaseException) else str(to_agent_json(error))


def _task(task) -> dict:
    state = task.state
    configurable = _configurable(state) if not isinstance(state, StateSnapshot) else None
    return {
        "id": task.id,
        "name": task.name,
        "path": to_agent_json(list(task.path or ())),
        "error": _error_text(task.error),
        "interrupts": to_agent_json(list(task.interrupts or ())),
        # A subgraph's task names the subgraph's namespace; with `subgraphs` it holds its whole state.
        "checkpoint": to_agent_json(configurable) if configurable is not None else None,
        "state": thread_state(state) if isinstance(state, StateSnapshot) else None,
        "result": to_agent_json(task.result),
    }


def thread_state(snapshot: StateSnapshot) -> dict:
    return {
        "values": to_agent_json(snapshot.values),
        "next": list(snapshot.next),
        "tasks": [_task(task) for task in snapshot.tasks],
        "metadata": to_agent_json(snapshot.metadata),
        "created_at": snapshot.created_at,
        "checkpoint": config_to_checkpoint(snapshot.config),
        "parent_checkpoint": config_to_checkpoint(snapshot.parent_config),
        "interrupts": to_agent_json(list(getattr(snapshot, "interrupts", ()) or ())),
    }
