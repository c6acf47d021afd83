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
 * The metadata each checkpoint of an Agent API run carries besides LangGraph's own: its configurable
 * values and the run's metadata, as LangGraph's JS server's checkpointer adds them (LangGraph.js
 * itself does not, where LangGraph in Python does); null for a run of the contract's own, whose
 * checkpoints stay as they were.
 * @param {JobMessage} job
 * @returns {Record<string, unknown> | null}
 */
export function checkpointMetadata(job) {
  if (!job.config.metadata) return null;
  const configurable = Object.entries(job.config.configurable ?? {}).filter(
    ([key]) => !key.startsWith("__") && !NOT_METADATA.has(key),
  );
  return { ...Object.fromEntries(configurable), ...job.config.metadata };
}
