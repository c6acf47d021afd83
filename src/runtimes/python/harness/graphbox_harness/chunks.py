"""The raw chunks of the LangGraph stream modes a run asked for (`stream_modes`), as `chunk` messages.

Each goes out as LangGraph's JS server (the reference) sends it to its clients: the chunk in the
Agent API's JSON (agent_json.py); a `checkpoints` chunk as `{values, metadata, next}`; for `debug`
and `tasks` with the server's additions: a checkpoint's `checkpoint` and `parent_checkpoint`
records, a subgraph task's `checkpoint` in place of its config, and no internal (`__`-prefixed)
configurable keys or callbacks in configs.
A subgraph's chunks carry its namespace and go out only when the run asked for `subgraphs`.
"""

from .agent_json import to_agent_json
from .thread_state import config_to_checkpoint, task_config_to_checkpoint

CHUNK_MODES = ("values", "updates", "messages", "custom", "debug", "tasks", "checkpoints")


def _public_config(config):
    if not isinstance(config, dict) or not isinstance(config.get("configurable"), dict):
        return config
    public = {k: v for k, v in config.items() if k != "callbacks"}
    public["configurable"] = {k: v for k, v in config["configurable"].items() if not str(k).startswith("__")}
    return public


def _task(task):
    if not isinstance(task, dict) or task_config_to_checkpoint(task.get("state")) is None:
        return task
    out = {k: v for k, v in task.items() if k != "state"}
    out["checkpoint"] = task_config_to_checkpoint(task["state"])
    return out


def _checkpoint(payload):
    if not isinstance(payload, dict):
        return payload
    parent = payload.get("parent_config")
    shaped = {
        **payload,
        "config": _public_config(payload.get("config")),
        "checkpoint": config_to_checkpoint(payload.get("config")),
        "parent_checkpoint": config_to_checkpoint(parent),
        "tasks": [_task(task) for task in payload.get("tasks") or ()],
    }
    shaped.pop("parent_config", None)
    if parent is not None:  # the first checkpoint has none, and the server's JSON no such key
        shaped["parent_config"] = _public_config(parent)
    return shaped


def _checkpoints(payload):
    if not isinstance(payload, dict):
        return payload
    return {"values": payload.get("values"), "metadata": payload.get("metadata"), "next": payload.get("next")}


def _debug(chunk):
    if not isinstance(chunk, dict):
        return chunk
    if chunk.get("type") == "checkpoint":
        return {**chunk, "payload": _checkpoint(chunk.get("payload"))}
    if chunk.get("type") == "task_result":
        return {**chunk, "payload": _task(chunk.get("payload"))}
    return chunk


_SHAPES = {"debug": _debug, "checkpoints": _checkpoints, "tasks": _task}


class ChunkForwarder:
    def __init__(self, channel, job: dict):
        self._channel = channel
        self.modes = [mode for mode in CHUNK_MODES if mode in (job.get("stream_modes") or ())]
        self.subgraphs = bool(job.get("subgraphs"))

    def forward(self, ns: tuple, mode: str, chunk) -> None:
        if ns and not self.subgraphs:
            return
        if mode == "updates" and "values" in self.modes and isinstance(chunk, dict) and "__interrupt__" in chunk:
            # LangGraph.js ends a run stopped at an interrupt with a `values` chunk of only the
            # interrupts, and LangGraph's servers stream it (chat UIs read it); Python LangGraph
            # yields it in `updates` alone.
            self._channel.send("chunk", mode="values", ns=[str(part) for part in ns],
                               data={"__interrupt__": to_agent_json(chunk["__interrupt__"])})
        if mode not in self.modes:
            return
        if mode == "messages":
            message, metadata = chunk
            data = [to_agent_json(message), to_agent_json(metadata)]
        else:
            data = to_agent_json(_SHAPES.get(mode, lambda value: value)(chunk))
        self._channel.send("chunk", mode=mode, ns=[str(part) for part in ns], data=data)
