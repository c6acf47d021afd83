"""The `describe` op: a compiled graph's drawing and JSON Schemas, as LangGraph's Python server
answers GET /assistants/{id}/graph and /schemas. A schema LangGraph cannot derive is null."""

import typing
import warnings

import pydantic

from .agent_json import to_agent_json

# LangGraph's own run-time keys, never a program's configuration.
_INTERNAL_CONFIG_KEYS = ("__pregel_resuming", "__pregel_checkpoint_id")


def _state_schema(graph) -> dict:
    fields = {}
    for key in graph.stream_channels_list:
        update_type = getattr(graph.channels[key], "UpdateType", typing.Any)
        try:
            pydantic.create_model(key, value=(update_type, None)).model_json_schema()
        except Exception:  # a channel pydantic cannot describe is described as anything
            update_type = typing.Any
        fields[key] = (update_type, None)
    return pydantic.create_model(graph.get_name("State"), **fields).model_json_schema()


def _config_schema(graph) -> dict:
    with warnings.catch_warnings():  # config_schema() is deprecated since LangGraph 1.0; the server still reads it
        warnings.simplefilter("ignore")
        schema = graph.config_schema()
    fields = getattr(schema, "model_fields", None) or {}
    if "configurable" not in fields:
        return {}
    configurable = pydantic.TypeAdapter(fields["configurable"].annotation).json_schema()
    for key in _INTERNAL_CONFIG_KEYS:
        configurable.get("properties", {}).pop(key, None)
    config_type = getattr(graph, "config_type", None)
    if config_type is not None and hasattr(config_type, "__name__"):
        configurable["title"] = config_type.__name__
    return configurable


def _schema(derive):
    try:
        return to_agent_json(derive())
    except Exception:
        return None


def _drawing(graph, xray) -> dict:
    drawing = graph.get_graph(xray=xray).to_json()
    for node in drawing.get("nodes", []):
        if isinstance(node.get("data"), dict):
            node["data"].pop("id", None)  # a Python class path, as the server leaves it out
    return to_agent_json(drawing)


def describe(graph, args: dict) -> dict:
    xray = args.get("xray")
    return {
        "graph": _drawing(graph, xray if isinstance(xray, (bool, int)) else False),
        "input_schema": _schema(graph.get_input_jsonschema),
        "output_schema": _schema(graph.get_output_jsonschema),
        "state_schema": _schema(lambda: _state_schema(graph)),
        "config_schema": _schema(lambda: _config_schema(graph)),
        "context_schema": _schema(graph.get_context_jsonschema),
    }
