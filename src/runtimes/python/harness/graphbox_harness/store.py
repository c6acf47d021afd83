"""LangGraph's long-term memory store, kept in the engine's store through the channel.

The harness puts this in place of any store the program compiled with (`InMemoryStore()`, as
LangGraph's memory how-to does), so `get_store()`, a node's `store` argument and `runtime.store`
reach the API key's items, and memories written on one thread are found on another. The program
never holds a database handle: the engine answers each operation in the owner's store.

Semantic search is not available (the engine keeps no embeddings): a search with `query` answers
as a filter-only search, as LangGraph's `InMemoryStore()` without an `index` does. `index` and
`ttl` of a put are ignored, as they are there.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime

from langgraph.store.base import (
    BaseStore,
    GetOp,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)

from .protocol import STORE_OPS
from .serialize import to_json

# What a JavaScript number holds exactly: the engine refuses other numbers as forged.
_MAX_INT = 2**53 - 1


def _labels(namespace, what: str = "namespace") -> list[str]:
    labels = list(namespace)
    for label in labels:
        if not isinstance(label, str):
            raise InvalidNamespaceError(f"{what} labels must be strings, got {type(label).__name__} in {tuple(labels)}")
    return labels


def _key(key) -> str:
    if not isinstance(key, str):
        raise TypeError(f"a store key must be a string, got {type(key).__name__}")
    return key


def _whole(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _MAX_INT:
        raise ValueError(f"{what} must be a whole number, got {value!r}")
    return value


def _object(value, what: str) -> dict:
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a dict, got {type(value).__name__}")
    return to_json(dict(value))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _item(row: dict) -> Item:
    return Item(value=row["value"], key=row["key"], namespace=tuple(row["namespace"]),
                created_at=_time(row["created_at"]), updated_at=_time(row["updated_at"]))


def _search_item(row: dict) -> SearchItem:
    return SearchItem(namespace=tuple(row["namespace"]), key=row["key"], value=row["value"],
                      created_at=_time(row["created_at"]), updated_at=_time(row["updated_at"]), score=row.get("score"))


def _conditions(op: ListNamespacesOp) -> dict:
    paths: dict = {"prefix": None, "suffix": None}
    for condition in op.match_conditions or ():
        if condition.match_type not in paths:
            raise ValueError(f"unsupported namespace match type {condition.match_type!r}")
        if paths[condition.match_type] is not None:
            raise ValueError(f"the engine's store takes one {condition.match_type} condition at a time")
        paths[condition.match_type] = _labels(condition.path, condition.match_type)
    return paths


class EngineStore(BaseStore):
    def __init__(self, channel):
        self._channel = channel

    def _call(self, op: str, **args):
        assert op in STORE_OPS
        return self._channel.request("store", op=op, args=args)

    def _one(self, op: Op) -> Result:
        if isinstance(op, GetOp):
            row = self._call("get", namespace=_labels(op.namespace), key=_key(op.key))
            return _item(row) if row else None
        if isinstance(op, PutOp):
            if op.value is None:
                self._call("delete", namespace=_labels(op.namespace), key=_key(op.key))
            else:
                self._call("put", namespace=_labels(op.namespace), key=_key(op.key),
                           value=_object(op.value, "a store value"))
            return None
        if isinstance(op, SearchOp):
            if op.query is not None and not isinstance(op.query, str):
                raise TypeError("a search query must be a string")
            rows = self._call(
                "search", namespace_prefix=_labels(op.namespace_prefix, "namespace_prefix"),
                filter=None if op.filter is None else _object(op.filter, "a search filter"),
                limit=_whole(op.limit, "limit"), offset=_whole(op.offset, "offset"), query=op.query,
            )
            return [_search_item(row) for row in rows]
        if isinstance(op, ListNamespacesOp):
            rows = self._call(
                "list_namespaces", **_conditions(op),
                max_depth=None if op.max_depth is None else _whole(op.max_depth, "max_depth"),
                limit=_whole(op.limit, "limit"), offset=_whole(op.offset, "offset"),
            )
            return [tuple(namespace) for namespace in rows]
        raise ValueError(f"unknown store operation {type(op).__name__}")

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return [self._one(op) for op in ops]

    # The channel round trip is a fast local call: the async API runs the sync one (as the checkpointer does).
    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return self.batch(ops)
