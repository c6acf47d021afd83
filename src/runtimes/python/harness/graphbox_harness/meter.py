"""LangChain callbacks that report every LLM call's usage to the engine.

The engine's gateway counts tokens from what the provider returned; this count is the
cross-check from inside the program's process (a program could fake it, so the engine never
trusts it alone).
"""

from langchain_core.callbacks import BaseCallbackHandler


def _model_of(message, llm_output) -> str:
    metadata = getattr(message, "response_metadata", None) or {}
    for source in (metadata, llm_output or {}):
        for key in ("model_name", "model"):
            if source.get(key):
                return str(source[key])
    return "unknown"


class LlmMeter(BaseCallbackHandler):
    """Usage only: a streamed run's tokens come from LangGraph's `messages` stream (see tokens.py)."""

    # Inline so usage is reported while its node runs, in order with the graph's own events.
    run_inline = True

    def __init__(self, channel):
        self._channel = channel
        self._node_of_run = {}

    def _remember_node(self, run_id, metadata):
        self._node_of_run[run_id] = (metadata or {}).get("langgraph_node")

    def on_chat_model_start(self, serialized, messages, *, run_id, metadata=None, **kwargs):
        self._remember_node(run_id, metadata)

    def on_llm_start(self, serialized, prompts, *, run_id, metadata=None, **kwargs):
        self._remember_node(run_id, metadata)

    def on_llm_end(self, response, *, run_id, **kwargs):
        node = self._node_of_run.pop(run_id, None)
        for generations in response.generations:
            for generation in generations:
                message = getattr(generation, "message", None)
                usage = getattr(message, "usage_metadata", None)
                if not usage:
                    continue
                self._channel.send(
                    "usage",
                    model=_model_of(message, response.llm_output),
                    node=node,
                    input_tokens=int(usage.get("input_tokens", 0)),
                    output_tokens=int(usage.get("output_tokens", 0)),
                    total_tokens=int(usage.get("total_tokens", 0)),
                )

    def on_llm_error(self, error, *, run_id, **kwargs):
        self._node_of_run.pop(run_id, None)
