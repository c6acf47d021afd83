"""LangGraph values as LangGraph's Agent Server writes them to its clients (the Agent API's JSON).

Not the contract's shape (serialize.py): messages stay LangChain's message dicts, as the server's
serializer leaves them (`model_dump()`: `content`, `additional_kwargs`, `response_metadata`, `type`,
`name`, `id`, `tool_calls`...), since the SDKs and chat UIs read those; an Interrupt is
`{value, id}`; datetimes, UUIDs and Decimals are strings, as the server's JSON encoder writes them.
What JSON cannot hold at all is described as serialize.py describes it, never an error.
"""

import dataclasses
import datetime
import decimal
import enum
import uuid

from langchain_core.messages import BaseMessage
from langgraph.types import Interrupt

from .serialize import opaque, to_json

_MAX_DEPTH = 64


def to_agent_json(value, depth: int = 0):
    if depth > _MAX_DEPTH:
        return opaque(value)
    if value is None or isinstance(value, (bool, int, float, str, bytes, bytearray)):
        return to_json(value)
    if isinstance(value, Interrupt):
        return {"value": to_agent_json(value.value, depth + 1), "id": value.id}
    if isinstance(value, BaseMessage):
        return _dumped(value, depth)
    if isinstance(value, dict):
        return {str(k): to_agent_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_agent_json(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return to_json(value)
    if isinstance(value, enum.Enum):
        return to_agent_json(value.value, depth + 1)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if callable(getattr(value, "model_dump", None)) and not isinstance(value, type):
        return _dumped(value, depth)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_agent_json({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, depth + 1)
    return opaque(value)


def _dumped(model, depth: int):
    try:
        return to_agent_json(model.model_dump(), depth + 1)
    except Exception:  # a program's model whose dump raises is described, not fatal
        return opaque(model)
