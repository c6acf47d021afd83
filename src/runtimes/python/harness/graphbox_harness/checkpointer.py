"""A LangGraph checkpointer that keeps checkpoints in the engine's store, through the channel.

The program never holds a database handle: it can only ask the engine for its own thread's
checkpoints, and the engine decides which thread that is. Values travel as LangGraph's own
typed serialization (base64), plus a JSON view of the state for the engine's thread APIs.
"""

import base64
import random
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_serializable_checkpoint_metadata,
)

from .serde import GraphboxSerializer
from .serialize import to_json


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _state_view(checkpoint: Checkpoint) -> dict:
    """The channels a user thinks of as state (LangGraph's internal branch/trigger channels left out)."""
    values = checkpoint.get("channel_values", {})
    # A root-channel graph keeps its whole state in "__root__", shown as the result shows it.
    return to_json({k: v for k, v in values.items() if k == "__root__" or not (k.startswith("branch:") or k.startswith("__"))})


class EngineCheckpointSaver(BaseCheckpointSaver[str]):
    def __init__(self, channel):
        # No pickle, and msgpack rebuilds data classes only: a checkpoint outlives its run, and the
        # next run on the thread loads it (see serde.py).
        super().__init__(serde=GraphboxSerializer())
        self._channel = channel

    def _call(self, op: str, **args):
        return self._channel.request("checkpoint", op=op, args=args)

    def _load(self, type_: str, data: str):
        return self.serde.loads_typed((type_, base64.b64decode(data)))

    def _tuple(self, row: dict) -> CheckpointTuple:
        ids = {"thread_id": row["thread_id"], "checkpoint_ns": row["checkpoint_ns"]}
        parent = row.get("parent_checkpoint_id")
        return CheckpointTuple(
            config={"configurable": {**ids, "checkpoint_id": row["checkpoint_id"]}},
            checkpoint=self._load(row["type"], row["checkpoint"]),
            metadata=row.get("metadata") or {},
            parent_config={"configurable": {**ids, "checkpoint_id": parent}} if parent else None,
            pending_writes=[(w["task_id"], w["channel"], self._load(w["type"], w["value"])) for w in row.get("writes", [])],
        )

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        c = config["configurable"]
        row = self._call("get_tuple", thread_id=c["thread_id"], checkpoint_ns=c.get("checkpoint_ns", ""),
                         checkpoint_id=get_checkpoint_id(config))
        return self._tuple(row) if row else None

    def list(self, config: RunnableConfig | None, *, filter: dict[str, Any] | None = None,
             before: RunnableConfig | None = None, limit: int | None = None) -> Iterator[CheckpointTuple]:
        c = (config or {}).get("configurable", {})
        checkpoint_id = get_checkpoint_id(config) if config else None
        cursor = get_checkpoint_id(before) if before else None
        produced = 0
        # The engine answers a page at a time (GRAPHBOX_CHECKPOINT_LIST_LIMIT, and a byte bound):
        # ask again from the last id until a page comes back empty.
        while True:
            rows = self._call(
                "list", thread_id=c.get("thread_id"), checkpoint_ns=c.get("checkpoint_ns"),
                checkpoint_id=checkpoint_id, before=cursor,
                # A metadata filter is applied here, so the engine must not cut the list short first.
                limit=None if filter or limit is None else limit - produced,
            )
            if not rows:
                return
            for row in rows:
                item = self._tuple(row)
                if filter and not all(item.metadata.get(k) == v for k, v in filter.items()):
                    continue
                yield item
                produced += 1
                if limit is not None and produced >= limit:
                    return
            if checkpoint_id is not None:
                return
            cursor = rows[-1]["checkpoint_id"]

    def put(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
            new_versions: ChannelVersions) -> RunnableConfig:
        c = config["configurable"]
        type_, data = self.serde.dumps_typed(checkpoint)
        ids = {"thread_id": c["thread_id"], "checkpoint_ns": c.get("checkpoint_ns", "")}
        self._call(
            "put", **ids, checkpoint_id=checkpoint["id"], parent_checkpoint_id=c.get("checkpoint_id"),
            type=type_, checkpoint=_b64(data),
            metadata=to_json(get_serializable_checkpoint_metadata(config, metadata)),
            values=_state_view(checkpoint),
        )
        return {"configurable": {**ids, "checkpoint_id": checkpoint["id"]}}

    def put_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str,
                   task_path: str = "") -> None:
        c = config["configurable"]
        rows = []
        for index, (channel, value) in enumerate(writes):
            type_, data = self.serde.dumps_typed(value)
            rows.append({"idx": WRITES_IDX_MAP.get(channel, index), "channel": channel, "type": type_, "value": _b64(data)})
        self._call("put_writes", thread_id=c["thread_id"], checkpoint_ns=c.get("checkpoint_ns", ""),
                   checkpoint_id=c["checkpoint_id"], task_id=task_id, task_path=task_path, writes=rows)

    def delete_thread(self, thread_id: str) -> None:
        raise NotImplementedError("threads are deleted through the engine's API, not by programs")

    # The channel round trip is a fast local call: the async API runs the sync one.
    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self.get_tuple(config)

    async def alist(self, config: RunnableConfig | None, *, filter: dict[str, Any] | None = None,
                    before: RunnableConfig | None = None, limit: int | None = None) -> AsyncIterator[CheckpointTuple]:
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
                   new_versions: ChannelVersions) -> RunnableConfig:
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str,
                          task_path: str = "") -> None:
        self.put_writes(config, writes, task_id, task_path)

    def get_next_version(self, current: str | None, channel: None) -> str:
        # Same scheme as LangGraph's InMemorySaver: sortable strings, unique across forks.
        if current is None:
            current_v = 0
        elif isinstance(current, int):
            current_v = current
        else:
            current_v = int(current.split(".")[0])
        return f"{current_v + 1:032}.{random.random():016}"
