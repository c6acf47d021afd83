// @ts-check
// What a run job gives LangGraph beyond the program: the graph's input (the inputs, or a Command
// with `resume` and the Agent API's `command.update` and `command.goto`, read as LangGraph's JS
// server reads them) and the metadata its checkpoints carry. Mirrors the Python harness's run_input.py.
import { Command, Send } from "@langchain/langgraph";

/** @typedef {import("./types.js").JobMessage} JobMessage */

/** Configurable keys LangGraph's JS server keeps out of checkpoint metadata (its checkpointer's EXCLUDED_KEYS). */
const NOT_METADATA = new Set(["checkpoint_ns", "checkpoint_id", "run_id", "thread_id"]);

/** @param {unknown} goto */
function gotoOf(goto) {
  const items = Array.isArray(goto) ? goto : [goto];
  // `{node, input}` is a Send, as in the server's RunCommand.
  return items.map((item) =>
    typeof item === "object" && item !== null
      ? new Send(String(/** @type {{ node?: unknown }} */ (item).node), /** @type {{ input?: unknown }} */ (item).input)
      : String(item),
  );
}

/** @param {JobMessage} job */
export function graphInput(job) {
  const command = job.command ?? {};
  const resume = job.resume ?? undefined;
  const hasUpdate = command.update !== undefined && command.update !== null;
  const hasGoto = command.goto !== undefined && command.goto !== null;
  if (hasUpdate || hasGoto) {
    return new Command({
      resume,
      update: hasUpdate ? /** @type {Record<string, unknown> | [string, unknown][]} */ (command.update) : undefined,
      goto: hasGoto ? gotoOf(command.goto) : undefined,
    });
  }
  if (resume !== undefined) return new Command({ resume });
  return job.inputs ?? null;
}

/**
 * A checkpoint's metadata as LangGraph's JS server's checkpointer stores it: the configurable values
 * and the metadata of the config it is put with (the run's metadata, and what LangGraph adds to it),
 * then LangGraph's own (`source`, `step`, `parents`). LangGraph.js itself keeps only its own, where
 * LangGraph in Python copies the run's too; a history filtered by a run's metadata depends on it.
 * @param {import("@langchain/core/runnables").RunnableConfig} config
 * @param {Record<string, unknown>} metadata
 */
export function checkpointMetadata(config, metadata) {
  const configurable = Object.entries(config.configurable ?? {}).filter(
    ([key]) => !key.startsWith("__") && !NOT_METADATA.has(key),
  );
  return { ...Object.fromEntries(configurable), ...config.metadata, ...metadata };
}
