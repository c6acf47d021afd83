"""The serializer of the harness's checkpoints: LangGraph's JsonPlusSerializer, with nothing that
runs stored data as code.

A checkpoint is written by one run and loaded by the next run on the thread, which may serve a
different end user: what a run stores must stay data. So:
- no pickle: `pickle_fallback` is off, and a value msgpack cannot hold (a bare `object()`, a
  socket) is stored as the contract's opaque record {"__type", "repr"} instead of failing the run;
- msgpack's extension records name a callable by module and name, and LangGraph's default
  (permissive) hook imports and calls whatever they name (`os.system` included; see
  langgraph/checkpoint/serde/_msgpack.py). Here they may only rebuild LangGraph's
  SAFE_MSGPACK_TYPES and data classes (pydantic models, dataclasses, enums, named tuples) of
  modules the program has already imported; anything else loads as its stored arguments.

The program's own classes are data classes of an imported module (`__workflow__`), so they come
back as instances, without LangGraph's "Deserializing unregistered type" warning: its default
hook allows every type and warns for each one outside its safe list, while this one is given an
allowlist (a policy rather than a list: a program's classes are not known before it runs).
Savers and caches the program makes itself (`MemorySaver()`, `InMemoryCache()`) get the same
hook through LangGraph's class-level default serializer (`use_for_program_savers`).
"""

import dataclasses
import enum
import sys

import ormsgpack
from langgraph.cache.base import BaseCache
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde import jsonplus
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from .serialize import opaque

try:  # pydantic v1 models still appear through langchain_core's shims
    from pydantic import BaseModel as _PydanticModel
    from pydantic.v1 import BaseModel as _PydanticV1Model
    _MODEL_BASES: tuple[type, ...] = (_PydanticModel, _PydanticV1Model)
except ImportError:  # pragma: no cover - pydantic always comes with langchain_core
    _MODEL_BASES = ()


def _is_data_class(cls: type) -> bool:
    return (
        dataclasses.is_dataclass(cls)
        or issubclass(cls, enum.Enum)
        or (bool(_MODEL_BASES) and issubclass(cls, _MODEL_BASES))
        or (issubclass(cls, tuple) and hasattr(cls, "_fields"))
    )


class _DataClassesOnly:
    """The (module, name) pairs the msgpack hook may rebuild beyond LangGraph's safe types.

    Only modules already in sys.modules are looked at (a lookup imports nothing), and only
    attributes in their own namespace (a module's __getattr__ is not called).
    """

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, tuple) or len(key) != 2:
            return False
        module_name, name = key
        if not isinstance(module_name, str) or not isinstance(name, str):
            return False
        module = sys.modules.get(module_name)
        candidate = getattr(module, "__dict__", {}).get(name) if module is not None else None
        return isinstance(candidate, type) and _is_data_class(candidate)

    def __iter__(self):
        return iter(())


def _tolerant_default(obj):
    try:
        return jsonplus._msgpack_default(obj)
    except Exception:
        return opaque(obj)


def _data_classes_hook():
    # LangGraph's own hook (blocked types load as their arguments, with its "Blocked" log line).
    return jsonplus._create_msgpack_ext_hook(_DataClassesOnly())


def _serializer_options() -> dict:
    # The hook goes in through the constructor: LangGraph then keeps it when it derives a
    # serializer with a schema allowlist (with_msgpack_allowlist, under LANGGRAPH_STRICT_MSGPACK),
    # where a hook set afterwards would be replaced by one that knows only the schema's types.
    return {"pickle_fallback": False, "allowed_msgpack_modules": None, "__unpack_ext_hook__": _data_classes_hook()}


class GraphboxSerializer(JsonPlusSerializer):
    def __init__(self):
        super().__init__(**_serializer_options())

    def dumps_typed(self, obj):
        try:
            return super().dumps_typed(obj)
        except ormsgpack.MsgpackEncodeError:
            return "msgpack", ormsgpack.packb(obj, default=_tolerant_default, option=jsonplus._option)

    def loads_typed(self, data):
        type_, _ = data
        if type_ not in ("msgpack", "null", "bytes", "bytearray"):
            # The engine stores only these; anything else came from elsewhere and is not read.
            raise ValueError(f"refusing a checkpoint value of serializer type {type_!r}")
        return super().loads_typed(data)


def use_for_program_savers() -> None:
    """Savers and caches the program builds without a serializer read with the harness's hook.

    Their data never leaves the process, but LangGraph's default hook warns, for each program
    class read back, that it "will be blocked in a future version" (a program that invokes its
    own graph with a MemorySaver and reads its state). Dumping stays LangGraph's own.
    """
    BaseCheckpointSaver.serde = JsonPlusSerializer(**_serializer_options())
    BaseCache.serde = JsonPlusSerializer(**_serializer_options())
