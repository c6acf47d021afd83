"""The `token` events of a streamed run, from LangGraph's `messages` stream mode.

With that mode on, LangGraph hands every chat model a streaming callback, so a node's plain
`llm.invoke(...)` streams too. Per LLM call the stream carries either its chunks (the model
streamed) or its whole message (it could not), and beside them the messages nodes return; only
the first two are the LLM's text. They come with the chat model run's metadata, where LangChain
puts `ls_model_type` for every chat model; a node's output comes with the node's, which has none.
A model the program tagged `nostream` is left out by LangGraph itself.
"""


def token_of(chunk) -> tuple[str | None, str] | None:
    """(node, text) of one `messages` chunk that an LLM produced; None for anything else."""
    message, metadata = chunk
    if not isinstance(metadata, dict) or metadata.get("ls_model_type") != "chat":
        return None
    # `.text` joins the text blocks of list content (Anthropic's chunks, tool calls) and skips the rest.
    text = str(getattr(message, "text", "") or "")
    if not text:
        return None
    node = metadata.get("langgraph_node")
    return (node if isinstance(node, str) else None), text
