// @ts-check
// The `token` events of a streamed run, from LangGraph's `messages` stream mode. Mirrors the
// Python harness's tokens.py.
//
// With that mode on, LangGraph hands every chat model a handler that prefers streaming, so a
// node's plain `llm.invoke(...)` streams too. Per LLM call the stream carries either its chunks
// (the model streamed) or its whole message (it could not), and beside them the messages nodes
// return; only the first two are the LLM's text. They come with the chat model run's metadata,
// where LangChain puts `ls_model_type` for every chat model; a node's output comes with the
// node's, which has none. A model the program tagged `nostream` is left out by LangGraph itself.

/**
 * (node, text) of one `messages` chunk that an LLM produced; null for anything else.
 * @param {unknown} chunk
 * @returns {{ node: string | null, content: string } | null}
 */
export function tokenOf(chunk) {
  if (!Array.isArray(chunk)) return null;
  const [message, metadata] = /** @type {[{ text?: unknown } | undefined, Record<string, unknown> | undefined]} */ (
    chunk
  );
  if (typeof metadata !== "object" || metadata === null || metadata.ls_model_type !== "chat") return null;
  // `text` joins the text blocks of list content (Anthropic's chunks, tool calls) and skips the rest.
  const content = typeof message?.text === "string" ? message.text : "";
  if (!content) return null;
  return { node: typeof metadata.langgraph_node === "string" ? metadata.langgraph_node : null, content };
}
