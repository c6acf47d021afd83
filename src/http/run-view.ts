/** LangGraph's Run object as the run routes answer it. */
import { streamModesOf, type RunBody } from "../agent/run-request.ts";
import type { ExecutionMetadata } from "../contract/types.ts";
import type { ExecutionRecord, RunRecord } from "../store/types.ts";

/** LangGraph's Run object; `kwargs` as LangGraph's servers show them (the body as the run runs it). */
export function runView(run: RunRecord, execution: ExecutionRecord | null = null): Record<string, unknown> {
  const body = run.kwargs as RunBody & { __stateless?: boolean };
  const ids = {
    run_id: run.runId,
    thread_id: run.threadId,
    graph_id: run.metadata["graph_id"],
    assistant_id: run.assistantId,
  };
  const kwargs: Record<string, unknown> = {
    input: body.input ?? null,
    ...(body.command ? { command: body.command } : {}),
    config: {
      ...(body.config ?? {}),
      configurable: { ...(body.config?.configurable ?? {}), ...ids },
      metadata: run.metadata,
    },
    context: body.context ?? {},
    stream_mode: streamModesOf(body),
    ...(body.interrupt_before ? { interrupt_before: body.interrupt_before } : {}),
    ...(body.interrupt_after ? { interrupt_after: body.interrupt_after } : {}),
    ...(body.checkpoint_id || body.checkpoint
      ? { checkpoint_id: body.checkpoint_id ?? body.checkpoint?.checkpoint_id }
      : {}),
    temporary: body.__stateless === true && body.on_completion !== "keep",
    subgraphs: body.stream_subgraphs ?? false,
    // Every run's stream can be re-joined here (it is replayed from the stored log).
    resumable: body["stream_resumable"] === true,
  };
  return {
    run_id: run.runId,
    thread_id: run.threadId,
    assistant_id: run.assistantId,
    metadata: { ...run.metadata, ...(execution ? { graphbox: meteringOf(execution) } : {}) },
    status: run.status,
    kwargs,
    multitask_strategy: run.multitaskStrategy,
    created_at: new Date(run.createdAt).toISOString(),
    updated_at: new Date(run.updatedAt).toISOString(),
  };
}

/**
 * What Graphbox adds to a run's metadata once it has an execution: its record's id, and once it
 * ended, the gateway's token count by model, the cost, and each node's timing and tokens.
 */
function meteringOf(execution: ExecutionRecord): Record<string, unknown> {
  const result = execution.result as { metadata?: ExecutionMetadata; result?: { metadata?: ExecutionMetadata } } | null;
  const metadata = result?.result?.metadata ?? result?.metadata ?? null;
  return {
    execution_id: execution.id,
    duration_ms: execution.durationMs,
    tokens_used: execution.tokensUsed,
    ...(metadata
      ? {
          token_usage: metadata.token_usage,
          ...(metadata.cost ? { cost: metadata.cost } : {}),
          node_timings: metadata.node_timings,
        }
      : {}),
  };
}
