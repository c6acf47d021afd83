// @ts-check
// A LangChain callback handler that reports every LLM call's usage to the engine (a streamed run's
// tokens come from LangGraph's `messages` stream: see tokens.mjs).
//
// The engine's gateway counts tokens from what the provider returned; this count is the
// cross-check from inside the program's process (a program could fake it, so the engine never
// trusts it alone). Mirrors the Python harness's meter.py.
import { BaseCallbackHandler } from "@langchain/core/callbacks/base";

/**
 * @param {{ response_metadata?: Record<string, unknown> } | undefined} message
 * @param {Record<string, unknown> | undefined} llmOutput
 */
function modelOf(message, llmOutput) {
  /** @type {Record<string, unknown>[]} */
  const sources = [message?.response_metadata ?? {}, llmOutput ?? {}];
  for (const source of sources) {
    for (const key of ["model_name", "model"]) {
      if (source[key]) return String(source[key]);
    }
  }
  return "unknown";
}

/** @param {unknown} value */
const count = (value) => (Number.isFinite(Number(value)) && Number(value) > 0 ? Math.trunc(Number(value)) : 0);

export class LlmMeter extends BaseCallbackHandler {
  name = "graphbox_llm_meter";

  /**
   * `input` is {channel}; LangChain copies handlers with `new this.constructor(this)`,
   * so a copy shares the channel and the run-to-node table.
   * @param {{ channel: import("./channel.mjs").Channel, nodeOfRun?: Map<string, string | null> }} input
   */
  constructor(input) {
    // Awaited, not backgrounded: usage is reported in order with the graph's own events.
    super({
      ignoreChain: true,
      ignoreAgent: true,
      ignoreRetriever: true,
      ignoreCustomEvent: true,
      _awaitHandler: true,
    });
    this.channel = input.channel;
    this.nodeOfRun = input.nodeOfRun ?? new Map();
  }

  /**
   * @param {string} runId
   * @param {Record<string, unknown> | undefined} metadata
   */
  rememberNode(runId, metadata) {
    this.nodeOfRun.set(runId, typeof metadata?.langgraph_node === "string" ? metadata.langgraph_node : null);
  }

  /**
   * @param {unknown} _llm
   * @param {unknown} _messages
   * @param {string} runId
   * @param {unknown} _parentRunId
   * @param {unknown} _extraParams
   * @param {unknown} _tags
   * @param {Record<string, unknown>} [metadata]
   */
  handleChatModelStart(_llm, _messages, runId, _parentRunId, _extraParams, _tags, metadata) {
    this.rememberNode(runId, metadata);
  }

  /**
   * @param {unknown} _llm
   * @param {unknown} _prompts
   * @param {string} runId
   * @param {unknown} _parentRunId
   * @param {unknown} _extraParams
   * @param {unknown} _tags
   * @param {Record<string, unknown>} [metadata]
   */
  handleLLMStart(_llm, _prompts, runId, _parentRunId, _extraParams, _tags, metadata) {
    this.rememberNode(runId, metadata);
  }

  /**
   * @param {import("@langchain/core/outputs").LLMResult} output
   * @param {string} runId
   */
  handleLLMEnd(output, runId) {
    const node = this.nodeOfRun.get(runId) ?? null;
    this.nodeOfRun.delete(runId);
    for (const generations of output?.generations ?? []) {
      for (const generation of generations ?? []) {
        const message = /** @type {{ message?: import("@langchain/core/messages").AIMessage } | undefined} */ (
          generation
        )?.message;
        const usage = message?.usage_metadata;
        if (!usage) continue;
        this.channel.send("usage", {
          model: modelOf(message, output.llmOutput),
          node,
          input_tokens: count(usage.input_tokens),
          output_tokens: count(usage.output_tokens),
          total_tokens: count(usage.total_tokens),
        });
      }
    }
  }

  /**
   * @param {unknown} _err
   * @param {string} runId
   */
  handleLLMError(_err, runId) {
    this.nodeOfRun.delete(runId);
  }
}
