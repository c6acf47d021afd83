"""Turns LangGraph state into the contract's JSON: one message shape, nothing JSON cannot hold.

Choices (documented in the README): messages become {role, content, ...}; pydantic models and
dataclasses become their fields; sets and tuples become lists; datetimes, Decimals, bytes and
anything else JSON cannot hold become {"__type": <class name>, "repr": <text>}.
"""

import base64
import dataclasses
import datetime
import decimal
import enum
import math
import uuid

from langchain_core.messages import BaseMessage

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "chat": "user", "function": "tool"}
_OPTIONAL_MESSAGE_FIELDS = ("name", "id", "tool_call_id")
_MAX_DEPTH = 64


def message_to_json(message: BaseMessage) -> dict:
    role = getattr(message, "role", None) if message.type == "chat" else None
    out = {"role": role or _ROLES.get(message.type, message.type), "content": to_json(message.content)}
    for field in _OPTIONAL_MESSAGE_FIELDS:
        value = getattr(message, field, None)
        if value:
            out[field] = value
    if message.type == "ai":
        out["tool_calls"] = [
            {"id": call.get("id"), "name": call["name"], "args": to_json(call.get("args", {}))} for call in message.tool_calls
        ]
        if message.usage_metadata:
            out["usage_metadata"] = to_json(dict(message.usage_metadata))
    if message.response_metadata:
        out["response_metadata"] = to_json(message.response_metadata)
    return out


def opaque(value) -> dict:
    return {"__type": type(value).__name__, "repr": _safe_repr(value)}


def _safe_repr(value) -> str:
    try:
        text = repr(value)
    except Exception as err:  # a hostile __repr__ must not break the result
        text = f"<unrepresentable: {type(err).__name__}>"
    return text[:10_000]


def to_json(value, depth: int = 0):
    if depth > _MAX_DEPTH:
        return opaque(value)
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else {"__type": "int", "repr": str(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__type": "float", "repr": repr(value)}
    if isinstance(value, BaseMessage):
        return message_to_json(value)
    if isinstance(value, dict):
        return {str(k): to_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [to_json(v, depth + 1) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, enum.Enum):
        return to_json(value.value, depth + 1)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return {"__type": type(value).__name__, "repr": value.isoformat()}
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return {"__type": type(value).__name__, "repr": str(value)}
    if isinstance(value, (bytes, bytearray)):
        return {"__type": "bytes", "repr": base64.b64encode(value).decode(), "encoding": "base64"}
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump) and not isinstance(value, type):
        try:
            return to_json(model_dump(), depth + 1)
        except Exception:
            return opaque(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_json({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, depth + 1)
    return opaque(value)
